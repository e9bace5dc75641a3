//! Provider settings from the environment (and `.dev.vars` / `.env`), and the
//! [`ProviderRegistry`] they make.
//!
//! A model name without a prefix (`claude-sonnet-4-20250514`) or with `anthropic/` goes to the
//! Anthropic Messages API. `openai/<name>` — or any prefix listed in `PI_WORKER_OPENAI_PREFIXES` —
//! goes to the OpenAI-compatible Chat Completions API with the prefix removed.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::openai::{OPENAI_BASE_URL, UnknownMaxTokensField};
use super::retry::RetryPolicy;
use super::{
    AnthropicMessages, AnthropicProvider, ChatCompletions, ContextWindows, LlmError, LlmProvider, MaxTokensField,
    OpenAiProvider, ProviderRegistry,
};

/// The model used when a request names none.
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-20250514";

/// The prefix of Anthropic models; model names without a prefix go to Anthropic too.
pub const ANTHROPIC_PREFIX: &str = "anthropic";

/// Why the provider settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LlmConfigError {
    /// `PI_WORKER_OPENAI_MAX_TOKENS_FIELD` names no known field.
    #[error("invalid PI_WORKER_OPENAI_MAX_TOKENS_FIELD")]
    MaxTokensField(#[from] UnknownMaxTokensField),
}

/// The Anthropic Messages API's settings.
#[derive(Clone)]
pub struct AnthropicConfig {
    /// `ANTHROPIC_API_KEY`.
    pub api_key: String,
    /// `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`).
    pub base_url: String,
}

impl fmt::Debug for AnthropicConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicConfig")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// The OpenAI-compatible Chat Completions API's settings.
#[derive(Clone)]
pub struct OpenAiConfig {
    /// `OPENAI_API_KEY` (optional for local servers).
    pub api_key: Option<String>,
    /// `OPENAI_BASE_URL` (default [`OPENAI_BASE_URL`]).
    pub base_url: String,
    /// `PI_WORKER_OPENAI_MAX_TOKENS_FIELD` (default [`MaxTokensField::default_for`] the base URL).
    pub max_tokens_field: MaxTokensField,
}

impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("max_tokens_field", &self.max_tokens_field)
            .finish_non_exhaustive()
    }
}

/// Provider settings, read from the environment and `.dev.vars` / `.env`.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// The Anthropic provider; `None` without `ANTHROPIC_API_KEY`.
    pub anthropic: Option<AnthropicConfig>,
    /// The OpenAI-compatible provider; `None` unless `OPENAI_API_KEY` or `OPENAI_BASE_URL` is set.
    pub openai: Option<OpenAiConfig>,
    /// `PI_WORKER_OPENAI_PREFIXES`: model prefixes served by the OpenAI-compatible provider
    /// (comma-separated, default `openai`).
    pub openai_prefixes: Vec<String>,
    /// `PI_WORKER_MODEL` (default [`DEFAULT_MODEL`]).
    pub default_model: String,
    /// `PI_WORKER_LLM_RETRIES`, `PI_WORKER_LLM_RETRY_BASE_MS`, `PI_WORKER_LLM_MAX_RETRY_WAIT_SECS`.
    pub retry: RetryPolicy,
    /// Models' context windows (`--context-tokens`, `--model-context`; default: the built-in table).
    pub context_windows: ContextWindows,
}

impl LlmConfig {
    /// Reads the settings from a variable lookup (the process environment merged with env files).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, LlmConfigError> {
        let get = |k: &str| vars.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let number = |k: &str| get(k).and_then(|v| v.parse::<u64>().ok());
        let anthropic = get("ANTHROPIC_API_KEY").map(|api_key| AnthropicConfig {
            api_key,
            base_url: get("ANTHROPIC_BASE_URL").unwrap_or_else(|| "https://api.anthropic.com".into()),
        });
        let (openai_key, openai_base) = (get("OPENAI_API_KEY"), get("OPENAI_BASE_URL"));
        let max_tokens_field: Option<MaxTokensField> = get("PI_WORKER_OPENAI_MAX_TOKENS_FIELD")
            .map(|name| name.parse())
            .transpose()?;
        let openai = if openai_key.is_some() || openai_base.is_some() {
            let base_url = openai_base.unwrap_or_else(|| OPENAI_BASE_URL.into());
            let max_tokens_field = max_tokens_field.unwrap_or_else(|| MaxTokensField::default_for(&base_url));
            Some(OpenAiConfig {
                api_key: openai_key,
                base_url,
                max_tokens_field,
            })
        } else {
            None
        };
        let defaults = RetryPolicy::default();
        Ok(Self {
            anthropic,
            openai,
            openai_prefixes: get("PI_WORKER_OPENAI_PREFIXES")
                .map(|v| {
                    v.split(',')
                        .map(|p| p.trim().to_string())
                        .filter(|p| !p.is_empty())
                        .collect()
                })
                .unwrap_or_else(|| vec!["openai".into()]),
            default_model: get("PI_WORKER_MODEL").unwrap_or_else(|| DEFAULT_MODEL.into()),
            retry: RetryPolicy {
                max_retries: number("PI_WORKER_LLM_RETRIES").map_or(defaults.max_retries, |n| n.min(20) as u32),
                base_delay: number("PI_WORKER_LLM_RETRY_BASE_MS").map_or(defaults.base_delay, Duration::from_millis),
                max_total_wait: number("PI_WORKER_LLM_MAX_RETRY_WAIT_SECS")
                    .map_or(defaults.max_total_wait, Duration::from_secs),
            },
            context_windows: ContextWindows::default(),
        })
    }
}

/// How to configure a provider, for the error a model of an unconfigured one gets.
fn advice(variables: &str) -> String {
    format!("set {variables} in the environment, .dev.vars or .env")
}

impl ProviderRegistry {
    /// The providers `config` enables: Anthropic under `anthropic/` and for model names without a
    /// prefix, the OpenAI-compatible provider under each of its prefixes. A provider without
    /// settings stays known, so its models fail with an error saying what to set.
    pub fn from_config(config: &LlmConfig) -> Result<Self, LlmError> {
        let mut builder = Self::builder(&config.default_model)
            .serve_unprefixed(ANTHROPIC_PREFIX)
            .context_windows(config.context_windows.clone());
        builder = match &config.anthropic {
            Some(anthropic) => {
                let wire = AnthropicMessages::new(&anthropic.api_key);
                let provider = AnthropicProvider::new(wire, &anthropic.base_url, config.retry)?;
                builder.register(ANTHROPIC_PREFIX, Arc::new(provider))
            }
            None => builder.unconfigured(ANTHROPIC_PREFIX, "Anthropic", &advice("ANTHROPIC_API_KEY")),
        };
        let openai: Option<Arc<dyn LlmProvider>> = match &config.openai {
            Some(openai) => {
                let wire = ChatCompletions::new(openai.api_key.as_deref(), openai.max_tokens_field);
                Some(Arc::new(OpenAiProvider::new(wire, &openai.base_url, config.retry)?))
            }
            None => None,
        };
        for prefix in &config.openai_prefixes {
            builder = match &openai {
                Some(provider) => builder.register(prefix, provider.clone()),
                None => builder.unconfigured(
                    prefix,
                    "OpenAI-compatible",
                    &advice("OPENAI_API_KEY or OPENAI_BASE_URL"),
                ),
            };
        }
        Ok(builder.build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> LlmConfig {
        LlmConfig::from_vars(&vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap()
    }

    fn not_configured(registry: &ProviderRegistry, model: &str) -> String {
        match registry.resolve(Some(model)) {
            Err(LlmError::NotConfigured(message)) => message,
            Err(e) => panic!("expected NotConfigured, got {e}"),
            Ok(_) => panic!("expected NotConfigured for {model}"),
        }
    }

    #[test]
    fn models_pick_providers_by_prefix() {
        let registry = ProviderRegistry::from_config(&config(&[
            ("ANTHROPIC_API_KEY", "k"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:1/v1"),
            ("PI_WORKER_OPENAI_PREFIXES", "openai, ollama"),
        ]))
        .unwrap();
        assert_eq!(registry.resolve(None).unwrap().1, DEFAULT_MODEL);
        assert_eq!(registry.resolve(Some("anthropic/claude-x")).unwrap().1, "claude-x");
        assert_eq!(registry.resolve(Some("openai/gpt-4o")).unwrap().1, "gpt-4o");
        assert_eq!(registry.resolve(Some("ollama/llama3.1:8b")).unwrap().1, "llama3.1:8b");
        assert_eq!(
            registry.resolve(Some("openai/meta-llama/llama-3")).unwrap().1,
            "meta-llama/llama-3"
        );
        assert_eq!(
            not_configured(&registry, "mystery/x"),
            "unknown model provider 'mystery' in model 'mystery/x' (known: anthropic, openai, ollama)"
        );
        let only_anthropic = ProviderRegistry::from_config(&config(&[("ANTHROPIC_API_KEY", "k")])).unwrap();
        assert_eq!(
            not_configured(&only_anthropic, "openai/gpt-4o"),
            "no OpenAI-compatible provider for model 'openai/gpt-4o': set OPENAI_API_KEY or OPENAI_BASE_URL in the environment, .dev.vars or .env"
        );
        let nothing = ProviderRegistry::from_config(&config(&[])).unwrap();
        assert!(!nothing.any_configured());
        assert_eq!(
            not_configured(&nothing, "claude-x"),
            "no Anthropic provider for model 'claude-x': set ANTHROPIC_API_KEY in the environment, .dev.vars or .env"
        );
    }

    #[test]
    fn the_max_tokens_field_follows_the_base_url_unless_set() {
        let field = |vars: &[(&str, &str)]| config(vars).openai.unwrap().max_tokens_field;
        assert_eq!(field(&[("OPENAI_API_KEY", "k")]), MaxTokensField::MaxCompletionTokens);
        assert_eq!(
            field(&[("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")]),
            MaxTokensField::MaxTokens
        );
        assert_eq!(
            field(&[
                ("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1"),
                ("PI_WORKER_OPENAI_MAX_TOKENS_FIELD", "max_completion_tokens"),
            ]),
            MaxTokensField::MaxCompletionTokens
        );
        assert_eq!(
            field(&[
                ("OPENAI_API_KEY", "k"),
                ("PI_WORKER_OPENAI_MAX_TOKENS_FIELD", "max_tokens"),
            ]),
            MaxTokensField::MaxTokens
        );
        let vars = [
            ("OPENAI_API_KEY", "k"),
            ("PI_WORKER_OPENAI_MAX_TOKENS_FIELD", "max_tokenz"),
        ];
        let error =
            LlmConfig::from_vars(&vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap_err();
        assert_eq!(error.to_string(), "invalid PI_WORKER_OPENAI_MAX_TOKENS_FIELD");
        assert_eq!(
            std::error::Error::source(&error).map(ToString::to_string).as_deref(),
            Some("unknown field 'max_tokenz': expected max_tokens or max_completion_tokens")
        );
        assert!(config(&[]).openai.is_none());
    }
}
