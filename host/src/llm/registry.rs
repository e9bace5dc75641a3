//! Which provider serves which model: a registry from model prefix to provider.
//!
//! A model name `<prefix>/<name>` goes to the provider registered under `<prefix>`, which is sent
//! `<name>`; a name without a prefix goes to the provider chosen with
//! [`ProviderRegistryBuilder::serve_unprefixed`]. A prefix can be known but unconfigured (no key
//! yet): its models then fail with an error saying how to configure it.

use std::fmt;
use std::sync::Arc;

use super::{ContextWindows, LlmError, LlmProvider};

/// What a prefix leads to.
#[derive(Clone)]
enum Entry {
    /// A working provider.
    Ready(Arc<dyn LlmProvider>),
    /// A provider that is known but not configured.
    Unconfigured {
        /// The provider's name, for the error (`Anthropic`).
        provider: String,
        /// How to configure it, for the error (`set ANTHROPIC_API_KEY …`).
        advice: String,
    },
}

/// A model prefix a [`ProviderRegistry`] knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownProvider {
    /// The prefix (`anthropic`, `openai`).
    pub prefix: String,
    /// Whether its provider has settings (a key or a base URL); if not, its models answer 503.
    pub configured: bool,
    /// Whether model names without a prefix go to it too.
    pub unprefixed: bool,
}

/// The configured providers, keyed by model prefix, and the choice of one per model name.
#[derive(Clone)]
pub struct ProviderRegistry {
    /// Prefixes in registration order (the order errors list them in).
    entries: Vec<(String, Entry)>,
    unprefixed: Option<String>,
    default_model: String,
    windows: ContextWindows,
}

impl fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<(&str, bool)> = self
            .entries
            .iter()
            .map(|(prefix, entry)| (prefix.as_str(), matches!(entry, Entry::Ready(_))))
            .collect();
        f.debug_struct("ProviderRegistry")
            .field("configured", &entries)
            .field("unprefixed", &self.unprefixed)
            .field("default_model", &self.default_model)
            .field("windows", &self.windows)
            .finish()
    }
}

/// Builds a [`ProviderRegistry`].
///
/// ```
/// use std::sync::Arc;
/// use pi_worker::llm::{ChatCompletions, LlmProvider, MaxTokensField, OpenAiProvider, ProviderRegistry};
///
/// let ollama: Arc<dyn LlmProvider> = Arc::new(OpenAiProvider::new(
///     ChatCompletions::new(None, MaxTokensField::MaxTokens),
///     "http://127.0.0.1:11434/v1",
///     Default::default(),
/// )?);
/// let registry = ProviderRegistry::builder("ollama/llama3.1:8b")
///     .register("ollama", ollama)
///     .unconfigured("anthropic", "Anthropic", "set ANTHROPIC_API_KEY")
///     .serve_unprefixed("anthropic")
///     .build();
/// assert_eq!(registry.resolve(None)?.1, "llama3.1:8b");
/// assert!(registry.resolve(Some("claude-sonnet-4-20250514")).is_err());
/// # Ok::<(), pi_worker::llm::LlmError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ProviderRegistryBuilder {
    registry: ProviderRegistry,
}

impl ProviderRegistryBuilder {
    /// Serves models named `<prefix>/<name>` with `provider` (replacing an earlier registration
    /// of `prefix`).
    pub fn register(self, prefix: &str, provider: Arc<dyn LlmProvider>) -> Self {
        self.entry(prefix, Entry::Ready(provider))
    }

    /// Knows `prefix` as `provider`'s, which is not configured: its models fail with
    /// [`LlmError::NotConfigured`] saying `advice`.
    pub fn unconfigured(self, prefix: &str, provider: &str, advice: &str) -> Self {
        self.entry(
            prefix,
            Entry::Unconfigured {
                provider: provider.to_string(),
                advice: advice.to_string(),
            },
        )
    }

    /// Serves model names without a prefix with what `prefix` leads to.
    pub fn serve_unprefixed(mut self, prefix: &str) -> Self {
        self.registry.unprefixed = Some(prefix.to_string());
        self
    }

    /// Sizes models' context windows with `windows` (default: the built-in table).
    pub fn context_windows(mut self, windows: ContextWindows) -> Self {
        self.registry.windows = windows;
        self
    }

    /// The registry.
    pub fn build(self) -> ProviderRegistry {
        self.registry
    }

    fn entry(mut self, prefix: &str, entry: Entry) -> Self {
        let entries = &mut self.registry.entries;
        match entries.iter_mut().find(|(known, _)| known == prefix) {
            Some((_, slot)) => *slot = entry,
            None => entries.push((prefix.to_string(), entry)),
        }
        self
    }
}

impl ProviderRegistry {
    /// An empty registry whose requests without a model use `default_model`.
    pub fn builder(default_model: &str) -> ProviderRegistryBuilder {
        ProviderRegistryBuilder {
            registry: Self {
                entries: Vec::new(),
                unprefixed: None,
                default_model: default_model.to_string(),
                windows: ContextWindows::default(),
            },
        }
    }

    /// The model used when a request names none.
    pub fn default_model(&self) -> &str {
        &self.default_model
    }

    /// The context window of `model` (or the default model), in tokens.
    pub fn context_tokens(&self, model: Option<&str>) -> u64 {
        let model = model.map(str::trim).filter(|m| !m.is_empty());
        self.windows.tokens(model.unwrap_or(&self.default_model))
    }

    /// Whether any provider is configured.
    pub fn any_configured(&self) -> bool {
        self.entries.iter().any(|(_, entry)| matches!(entry, Entry::Ready(_)))
    }

    /// The provider for `model` (or the default model) and the model name to send it.
    pub fn resolve(&self, model: Option<&str>) -> Result<(Arc<dyn LlmProvider>, String), LlmError> {
        let model = model
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .unwrap_or(&self.default_model);
        let (prefix, name) = match model.split_once('/') {
            Some((prefix, name)) => (prefix, name),
            None => match &self.unprefixed {
                Some(prefix) => (prefix.as_str(), model),
                None => {
                    return Err(LlmError::NotConfigured(format!(
                        "model '{model}' names no provider: write it as '<provider>/{model}' (known: {})",
                        self.known()
                    )));
                }
            },
        };
        let Some((_, entry)) = self.entries.iter().find(|(known, _)| known == prefix) else {
            return Err(LlmError::NotConfigured(format!(
                "unknown model provider '{prefix}' in model '{model}' (known: {})",
                self.known()
            )));
        };
        match entry {
            Entry::Ready(_) if name.is_empty() => Err(LlmError::NotConfigured(format!("no model name in '{model}'"))),
            Entry::Ready(provider) => Ok((provider.clone(), name.to_string())),
            Entry::Unconfigured { provider, advice } => Err(LlmError::NotConfigured(format!(
                "no {provider} provider for model '{model}': {advice}"
            ))),
        }
    }

    /// Every provider prefix the registry knows, in registration order, with whether it is
    /// configured and whether it also serves model names without a prefix.
    pub fn providers(&self) -> Vec<KnownProvider> {
        self.entries
            .iter()
            .map(|(prefix, entry)| KnownProvider {
                prefix: prefix.clone(),
                configured: matches!(entry, Entry::Ready(_)),
                unprefixed: self.unprefixed.as_deref() == Some(prefix.as_str()),
            })
            .collect()
    }

    /// The models the operator named: the default model, then each one given its own context
    /// window (`--model-context`), without repeats.
    pub fn named_models(&self) -> Vec<String> {
        let mut models = vec![self.default_model.clone()];
        for (model, _) in &self.windows.per_model {
            if !models.contains(model) {
                models.push(model.clone());
            }
        }
        models
    }

    /// The known prefixes, for errors.
    fn known(&self) -> String {
        let prefixes: Vec<&str> = self.entries.iter().map(|(prefix, _)| prefix.as_str()).collect();
        prefixes.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{LlmRequest, StreamFuture};

    /// A provider that is never called.
    struct Idle;

    impl LlmProvider for Idle {
        fn stream(&self, _request: LlmRequest) -> StreamFuture<'_> {
            Box::pin(async { Err(LlmError::Transport("idle".into())) })
        }
    }

    fn not_configured(result: Result<(Arc<dyn LlmProvider>, String), LlmError>) -> String {
        match result {
            Err(LlmError::NotConfigured(message)) => message,
            Err(e) => panic!("expected NotConfigured, got {e}"),
            Ok((_, model)) => panic!("expected NotConfigured, got a provider for {model}"),
        }
    }

    #[test]
    fn prefixes_pick_providers_and_a_third_provider_is_one_registration() {
        let first: Arc<dyn LlmProvider> = Arc::new(Idle);
        let third: Arc<dyn LlmProvider> = Arc::new(Idle);
        let registry = ProviderRegistry::builder("m")
            .register("first", first.clone())
            .register("third", third.clone())
            .serve_unprefixed("first")
            .build();
        let (provider, model) = registry.resolve(Some("third/x/y")).unwrap();
        assert!(Arc::ptr_eq(&provider, &third));
        assert_eq!(model, "x/y");
        let (provider, model) = registry.resolve(None).unwrap();
        assert!(Arc::ptr_eq(&provider, &first));
        assert_eq!(model, "m");
        assert_eq!(
            not_configured(registry.resolve(Some("third/"))),
            "no model name in 'third/'"
        );
        assert!(registry.any_configured());
    }

    #[test]
    fn unknown_unconfigured_and_unprefixed_models_are_clear_errors() {
        let registry = ProviderRegistry::builder("m")
            .unconfigured("a", "Alpha", "set ALPHA_KEY")
            .register("b", Arc::new(Idle))
            .build();
        assert_eq!(
            not_configured(registry.resolve(Some("a/x"))),
            "no Alpha provider for model 'a/x': set ALPHA_KEY"
        );
        assert_eq!(
            not_configured(registry.resolve(Some("c/x"))),
            "unknown model provider 'c' in model 'c/x' (known: a, b)"
        );
        assert_eq!(
            not_configured(registry.resolve(None)),
            "model 'm' names no provider: write it as '<provider>/m' (known: a, b)"
        );
        // Registering a known prefix again replaces it.
        let registry = ProviderRegistry::builder("a/m")
            .unconfigured("a", "Alpha", "set ALPHA_KEY")
            .register("a", Arc::new(Idle))
            .build();
        assert_eq!(registry.resolve(None).unwrap().1, "m");
        assert!(!ProviderRegistry::builder("m").build().any_configured());
    }
}
