//! Which provider serves which model, configured from the environment.
//!
//! A model name without a prefix (`claude-sonnet-4-20250514`) or with `anthropic/` goes to the
//! Anthropic Messages API. `openai/<name>` — or any prefix listed in `PI_WORKER_OPENAI_PREFIXES` —
//! goes to the OpenAI-compatible Chat Completions API with the prefix removed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::retry::RetryPolicy;
use super::{AnthropicProvider, LlmError, LlmProvider, OpenAiProvider};

/// The model used when a request names none.
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-20250514";

/// Provider settings, read from the environment and `.dev.vars` / `.env`.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// `ANTHROPIC_API_KEY`.
    pub anthropic_api_key: Option<String>,
    /// `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`).
    pub anthropic_base_url: String,
    /// `OPENAI_API_KEY` (optional for local servers).
    pub openai_api_key: Option<String>,
    /// `OPENAI_BASE_URL` (default `https://api.openai.com/v1`); setting it enables the provider
    /// without a key.
    pub openai_base_url: Option<String>,
    /// `PI_WORKER_OPENAI_PREFIXES`: model prefixes served by the OpenAI-compatible provider
    /// (comma-separated, default `openai`).
    pub openai_prefixes: Vec<String>,
    /// `PI_WORKER_MODEL` (default [`DEFAULT_MODEL`]).
    pub default_model: String,
    /// `PI_WORKER_LLM_RETRIES`, `PI_WORKER_LLM_RETRY_BASE_MS`, `PI_WORKER_LLM_MAX_RETRY_WAIT_SECS`.
    pub retry: RetryPolicy,
}

impl LlmConfig {
    /// Reads the settings from a variable lookup (the process environment merged with env files).
    pub fn from_vars(vars: &HashMap<String, String>) -> Self {
        let get = |k: &str| vars.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let number = |k: &str| get(k).and_then(|v| v.parse::<u64>().ok());
        let defaults = RetryPolicy::default();
        Self {
            anthropic_api_key: get("ANTHROPIC_API_KEY"),
            anthropic_base_url: get("ANTHROPIC_BASE_URL").unwrap_or_else(|| "https://api.anthropic.com".into()),
            openai_api_key: get("OPENAI_API_KEY"),
            openai_base_url: get("OPENAI_BASE_URL"),
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
        }
    }
}

/// The configured providers, and the choice of one per model name.
pub struct Providers {
    anthropic: Option<Arc<dyn LlmProvider>>,
    openai: Option<Arc<dyn LlmProvider>>,
    openai_prefixes: Vec<String>,
    default_model: String,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers")
            .field("anthropic", &self.anthropic.is_some())
            .field("openai", &self.openai.is_some())
            .field("openai_prefixes", &self.openai_prefixes)
            .field("default_model", &self.default_model)
            .finish()
    }
}

impl Providers {
    /// Builds the providers the configuration enables.
    pub fn new(config: &LlmConfig) -> Result<Self, LlmError> {
        let anthropic: Option<Arc<dyn LlmProvider>> = match &config.anthropic_api_key {
            Some(key) => Some(Arc::new(AnthropicProvider::new(
                &config.anthropic_base_url,
                key,
                config.retry,
            )?)),
            None => None,
        };
        let openai: Option<Arc<dyn LlmProvider>> =
            if config.openai_api_key.is_some() || config.openai_base_url.is_some() {
                let base = config.openai_base_url.as_deref().unwrap_or("https://api.openai.com/v1");
                Some(Arc::new(OpenAiProvider::new(
                    base,
                    config.openai_api_key.as_deref(),
                    config.retry,
                )?))
            } else {
                None
            };
        let mut providers = Self::from_parts(anthropic, config.default_model.clone());
        providers.openai = openai;
        providers.openai_prefixes = config.openai_prefixes.clone();
        Ok(providers)
    }

    /// Providers from parts: `anthropic` serves Anthropic models (any [`LlmProvider`], for
    /// example an in-process fake in a benchmark or another embedder's transport).
    pub fn from_parts(anthropic: Option<Arc<dyn LlmProvider>>, default_model: String) -> Self {
        Self {
            anthropic,
            openai: None,
            openai_prefixes: vec!["openai".into()],
            default_model,
        }
    }

    /// The model used when a request names none.
    pub fn default_model(&self) -> &str {
        &self.default_model
    }

    /// Whether any provider is configured.
    pub fn any_configured(&self) -> bool {
        self.anthropic.is_some() || self.openai.is_some()
    }

    /// The provider for `model` (or the default model) and the model name to send it.
    pub fn resolve(&self, model: Option<&str>) -> Result<(Arc<dyn LlmProvider>, String), LlmError> {
        let model = model
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .unwrap_or(&self.default_model);
        let (prefix, name) = match model.split_once('/') {
            Some((prefix, name)) => (Some(prefix), name),
            None => (None, model),
        };
        let (provider, label, hint) = match prefix {
            None | Some("anthropic") => (&self.anthropic, "Anthropic", "ANTHROPIC_API_KEY"),
            Some(p) if self.openai_prefixes.iter().any(|known| known == p) => {
                (&self.openai, "OpenAI-compatible", "OPENAI_API_KEY or OPENAI_BASE_URL")
            }
            Some(p) => {
                return Err(LlmError::NotConfigured(format!(
                    "unknown model provider '{p}' in model '{model}' (known: anthropic, {})",
                    self.openai_prefixes.join(", ")
                )));
            }
        };
        match provider {
            Some(provider) if !name.is_empty() => Ok((provider.clone(), name.to_string())),
            Some(_) => Err(LlmError::NotConfigured(format!("no model name in '{model}'"))),
            None => Err(LlmError::NotConfigured(format!(
                "no {label} provider for model '{model}': set {hint} in the environment, .dev.vars or .env"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> LlmConfig {
        LlmConfig::from_vars(&vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn models_pick_providers_by_prefix() {
        let providers = Providers::new(&config(&[
            ("ANTHROPIC_API_KEY", "k"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:1/v1"),
            ("PI_WORKER_OPENAI_PREFIXES", "openai, ollama"),
        ]))
        .unwrap();
        assert_eq!(providers.resolve(None).unwrap().1, DEFAULT_MODEL);
        assert_eq!(providers.resolve(Some("anthropic/claude-x")).unwrap().1, "claude-x");
        assert_eq!(providers.resolve(Some("openai/gpt-4o")).unwrap().1, "gpt-4o");
        assert_eq!(providers.resolve(Some("ollama/llama3.1:8b")).unwrap().1, "llama3.1:8b");
        assert_eq!(
            providers.resolve(Some("openai/meta-llama/llama-3")).unwrap().1,
            "meta-llama/llama-3"
        );
        assert!(
            matches!(providers.resolve(Some("mystery/x")), Err(LlmError::NotConfigured(m)) if m.contains("known: anthropic, openai, ollama"))
        );
        let only_anthropic = Providers::new(&config(&[("ANTHROPIC_API_KEY", "k")])).unwrap();
        assert!(
            matches!(only_anthropic.resolve(Some("openai/gpt-4o")), Err(LlmError::NotConfigured(m)) if m.contains("OPENAI_API_KEY"))
        );
    }
}
