//! How many tokens each model's context window holds: a built-in table of the families the
//! providers serve, under the operator's overrides (one number for every model, and per model).

/// The window assumed for a model the table does not know and no override names.
pub const UNKNOWN_MODEL_TOKENS: u64 = 128_000;

/// Known model families, by name prefix (the first match wins), and their windows in tokens:
/// what the provider accepts as input without opt-in headers.
const FAMILIES: &[(&str, u64)] = &[
    ("claude-", 200_000),
    ("gpt-4.1", 1_047_576),
    // GPT-5's 400k window includes up to 128k of output: 272k of prompt.
    ("gpt-5", 272_000),
    ("gpt-4o", 128_000),
    ("gpt-4-turbo", 128_000),
    ("gpt-4", 8_192),
    ("gpt-3.5-turbo", 16_385),
    ("o1", 200_000),
    ("o3", 200_000),
    ("o4", 200_000),
];

/// The operator's context-window settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextWindows {
    /// `--context-tokens`: every model's window, over the table.
    pub all_models: Option<u64>,
    /// `--model-context MODEL=TOKENS`: one model's window, over everything else. A model is
    /// named as in a chat request (`openai/gpt-4o`) or without its provider prefix (`gpt-4o`).
    pub per_model: Vec<(String, u64)>,
}

/// Why a `--model-context` setting is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not MODEL=TOKENS with a positive number of tokens")]
pub struct BadModelContext(pub String);

impl ContextWindows {
    /// Parses `MODEL=TOKENS` settings.
    pub fn per_model(settings: &[String]) -> Result<Vec<(String, u64)>, BadModelContext> {
        settings
            .iter()
            .map(|setting| {
                let (model, tokens) = setting
                    .rsplit_once('=')
                    .ok_or_else(|| BadModelContext(setting.clone()))?;
                let tokens = tokens.trim().parse::<u64>().ok().filter(|&t| t > 0);
                match (model.trim(), tokens) {
                    (model, Some(tokens)) if !model.is_empty() => Ok((model.to_string(), tokens)),
                    _ => Err(BadModelContext(setting.clone())),
                }
            })
            .collect()
    }

    /// The window of `model` (as a chat names it, provider prefix and all), in tokens.
    pub fn tokens(&self, model: &str) -> u64 {
        let bare = model.rsplit_once('/').map_or(model, |(_, name)| name);
        let named = self
            .per_model
            .iter()
            .rev()
            .find(|(name, _)| name == model || name == bare)
            .map(|&(_, tokens)| tokens);
        named
            .or(self.all_models)
            .or_else(|| {
                FAMILIES
                    .iter()
                    .find(|(family, _)| bare.starts_with(family))
                    .map(|&(_, tokens)| tokens)
            })
            .unwrap_or(UNKNOWN_MODEL_TOKENS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_beat_the_table_and_the_table_beats_the_default() {
        let mut windows = ContextWindows::default();
        assert_eq!(windows.tokens("claude-sonnet-4-20250514"), 200_000);
        assert_eq!(windows.tokens("anthropic/claude-opus-4"), 200_000);
        assert_eq!(windows.tokens("openai/gpt-4o-mini"), 128_000);
        assert_eq!(windows.tokens("openai/gpt-4.1"), 1_047_576);
        assert_eq!(windows.tokens("openai/gpt-4"), 8_192);
        assert_eq!(windows.tokens("ollama/llama3.1:8b"), UNKNOWN_MODEL_TOKENS);
        windows.all_models = Some(32_000);
        assert_eq!(windows.tokens("claude-sonnet-4-20250514"), 32_000);
        windows.per_model = ContextWindows::per_model(&[
            "ollama/llama3.1:8b=8192".into(),
            "claude-sonnet-4-20250514 = 1000000".into(),
        ])
        .unwrap();
        assert_eq!(windows.tokens("ollama/llama3.1:8b"), 8192);
        assert_eq!(windows.tokens("anthropic/claude-sonnet-4-20250514"), 1_000_000);
        assert_eq!(windows.tokens("openai/gpt-4o"), 32_000);
        for bad in ["gpt-4o", "gpt-4o=", "=100", "gpt-4o=0", "gpt-4o=many"] {
            assert_eq!(
                ContextWindows::per_model(&[bad.into()]),
                Err(BadModelContext(bad.into())),
                "{bad}"
            );
        }
    }
}
