//! Which provider serves which model, configured from the environment.

use std::collections::HashMap;
use std::sync::Arc;

use std::time::Duration;

use super::retry::RetryPolicy;
use super::{AnthropicProvider, LlmError, LlmProvider};

/// The model used when a request names none.
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-20250514";

/// Provider settings, read from the environment and `.dev.vars` / `.env`.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// `ANTHROPIC_API_KEY`.
    pub anthropic_api_key: Option<String>,
    /// `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`).
    pub anthropic_base_url: String,
    /// `PI_WORKER_MODEL` (default [`DEFAULT_MODEL`]).
    pub default_model: String,
    /// `PI_WORKER_LLM_RETRIES`, `PI_WORKER_LLM_RETRY_BASE_MS`, `PI_WORKER_LLM_MAX_RETRY_WAIT_SECS`.
    pub retry: RetryPolicy,
}

impl LlmConfig {
    /// Reads the settings from a variable lookup (the process environment merged with env files).
    pub fn from_vars(vars: &HashMap<String, String>) -> Self {
        let get = |k: &str| vars.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        Self {
            anthropic_api_key: get("ANTHROPIC_API_KEY"),
            anthropic_base_url: get("ANTHROPIC_BASE_URL").unwrap_or_else(|| "https://api.anthropic.com".into()),
            default_model: get("PI_WORKER_MODEL").unwrap_or_else(|| DEFAULT_MODEL.into()),
            retry: {
                let defaults = RetryPolicy::default();
                let number = |k: &str| get(k).and_then(|v| v.parse::<u64>().ok());
                RetryPolicy {
                    max_retries: number("PI_WORKER_LLM_RETRIES").map_or(defaults.max_retries, |n| n.min(20) as u32),
                    base_delay: number("PI_WORKER_LLM_RETRY_BASE_MS")
                        .map_or(defaults.base_delay, Duration::from_millis),
                    max_total_wait: number("PI_WORKER_LLM_MAX_RETRY_WAIT_SECS")
                        .map_or(defaults.max_total_wait, Duration::from_secs),
                }
            },
        }
    }
}

/// The configured providers, and the choice of one per model name.
pub struct Providers {
    anthropic: Option<Arc<dyn LlmProvider>>,
    default_model: String,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers")
            .field("anthropic", &self.anthropic.is_some())
            .field("default_model", &self.default_model)
            .finish()
    }
}

impl Providers {
    /// Builds the providers the configuration has keys for.
    pub fn new(config: &LlmConfig) -> Result<Self, LlmError> {
        let anthropic: Option<Arc<dyn LlmProvider>> = match &config.anthropic_api_key {
            Some(key) => Some(Arc::new(AnthropicProvider::new(
                &config.anthropic_base_url,
                key,
                config.retry,
            )?)),
            None => None,
        };
        Ok(Self::from_parts(anthropic, config.default_model.clone()))
    }

    /// Providers from parts: `anthropic` serves Anthropic models (any [`LlmProvider`], for
    /// example an in-process fake in a benchmark or another embedder's transport).
    pub fn from_parts(anthropic: Option<Arc<dyn LlmProvider>>, default_model: String) -> Self {
        Self {
            anthropic,
            default_model,
        }
    }

    /// The model used when a request names none.
    pub fn default_model(&self) -> &str {
        &self.default_model
    }

    /// The provider for `model` (or the default model) and the model name to send it.
    pub fn resolve(&self, model: Option<&str>) -> Result<(Arc<dyn LlmProvider>, String), LlmError> {
        let model = model
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .unwrap_or(&self.default_model);
        let name = model.strip_prefix("anthropic/").unwrap_or(model);
        if let Some((prefix, _)) = name.split_once('/') {
            return Err(LlmError::NotConfigured(format!(
                "unknown model provider '{prefix}' in model '{model}' (known: anthropic)"
            )));
        }
        match &self.anthropic {
            Some(provider) => Ok((provider.clone(), name.to_string())),
            None => Err(LlmError::NotConfigured(format!(
                "no API key for model '{name}': set ANTHROPIC_API_KEY in the environment, .dev.vars or .env"
            ))),
        }
    }
}
