//! What a model call costs, from a price table in USD per million tokens, and the budgets
//! checked before each turn.

use std::collections::HashMap;

use crate::model::llm::Usage;

/// One model's prices, in USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    /// Thinking tokens are billed as output.
    pub output: f64,
    pub cached_input: f64,
}

/// Prices by model name. Models not in the table cost nothing here (say, a local Ollama).
#[derive(Debug, Clone, PartialEq)]
pub struct Prices(HashMap<String, Price>);

impl Default for Prices {
    /// The providers' published list prices for common models (standard tier, short prompts).
    fn default() -> Self {
        let table = [
            ("gemini-2.5-flash", 0.30, 2.50, 0.03),
            ("gemini-2.5-flash-lite", 0.10, 0.40, 0.01),
            ("gemini-2.5-pro", 1.25, 10.00, 0.125),
            ("gpt-4o-mini", 0.15, 0.60, 0.075),
            ("gpt-4o", 2.50, 10.00, 1.25),
            ("gpt-4.1-mini", 0.40, 1.60, 0.10),
        ];
        Self(table.into_iter().map(|(model, input, output, cached_input)| (model.to_owned(), Price { input, output, cached_input })).collect())
    }
}

impl Prices {
    /// Reads `model=input/output/cached` entries separated by commas or semicolons, over the
    /// defaults: `gemini-2.5-flash=0.30/2.50/0.03, my-model=1/2/0.5`.
    ///
    /// # Errors
    /// The entry that can't be read, for the configuration error.
    pub fn with_overrides(mut self, text: &str) -> Result<Self, String> {
        for entry in text.split([',', ';']).map(str::trim).filter(|e| !e.is_empty()) {
            let (model, numbers) = entry.split_once('=').ok_or_else(|| entry.to_owned())?;
            let numbers: Vec<f64> = numbers
                .split('/')
                .map(|n| n.trim().parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0))
                .collect::<Option<_>>()
                .ok_or_else(|| entry.to_owned())?;
            let [input, output, cached_input] = numbers[..] else { return Err(entry.to_owned()) };
            let model = model.trim();
            if model.is_empty() {
                return Err(entry.to_owned());
            }
            self.0.insert(model.to_owned(), Price { input, output, cached_input });
        }
        Ok(self)
    }

    pub fn price(&self, model: &str) -> Option<Price> {
        self.0.get(model).copied()
    }

    /// The cost of `usage` on `model`, in USD.
    pub fn cost(&self, model: &str, usage: &Usage) -> f64 {
        let Some(price) = self.price(model) else { return 0.0 };
        let cached = usage.cached_tokens.min(usage.input_tokens);
        let fresh = usage.input_tokens - cached;
        (fresh as f64 * price.input + cached as f64 * price.cached_input + (usage.output_tokens + usage.thinking_tokens) as f64 * price.output)
            / 1_000_000.0
    }
}

/// Midnight UTC today and the first of this month, in unix milliseconds: where the daily and
/// monthly budgets start counting.
pub(crate) fn budget_periods(now_ms: i64) -> (i64, i64) {
    use chrono::{Datelike, TimeZone, Utc};
    let now = Utc.timestamp_millis_opt(now_ms).single().unwrap_or_else(Utc::now);
    let day = now.date_naive().and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
    let month = now.date_naive().with_day(1).expect("the first exists").and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
    (day.timestamp_millis(), month.timestamp_millis())
}

/// Whose budget a limit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Whose {
    /// The user's own, from Settings → Chat.
    Own,
    /// The administrator's, on what each user may spend of the server's LLM key.
    ServerKey,
}

/// The message for a budget that is reached, or `None` while there is room.
pub(crate) fn over_budget(spent_today: f64, spent_month: f64, daily: Option<f64>, monthly: Option<f64>, whose: Whose) -> Option<String> {
    let reached = |period: &str, spent: f64, limit: f64, again: &str| {
        let (what, fix) = match whose {
            Whose::Own => (format!("your {period} chat budget"), "raise it in Settings → Chat"),
            Whose::ServerKey => (
                format!("the {period} budget your administrator set for the server's LLM"),
                "save an API key of your own in Settings → LLM provider",
            ),
        };
        format!("You have reached {what}: ${spent:.4} spent of ${limit:.2}. It starts again {again}, or {fix}.")
    };
    if let Some(limit) = daily.filter(|limit| spent_today >= *limit) {
        return Some(reached("daily", spent_today, limit, "at midnight UTC"));
    }
    monthly.filter(|limit| spent_month >= *limit).map(|limit| reached("monthly", spent_month, limit, "on the 1st (UTC)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemini_flash_is_priced_as_published_with_thinking_as_output_and_cache_discounted() {
        let usage = Usage { input_tokens: 1_000_000, cached_tokens: 400_000, output_tokens: 100_000, thinking_tokens: 100_000 };
        let cost = Prices::default().cost("gemini-2.5-flash", &usage);
        // 600k fresh × 0.30 + 400k cached × 0.03 + 200k output × 2.50, per million.
        assert!((cost - (0.18 + 0.012 + 0.5)).abs() < 1e-9, "{cost}");
    }

    #[test]
    fn unknown_models_cost_nothing_and_overrides_add_or_replace() {
        let prices = Prices::default().with_overrides("llama3.1:8b=0/0/0; gemini-2.5-flash = 1/2/0.5").unwrap();
        assert_eq!(Prices::default().cost("llama3.1:8b", &Usage { input_tokens: 5, ..Usage::default() }), 0.0);
        assert_eq!(prices.price("gemini-2.5-flash"), Some(Price { input: 1.0, output: 2.0, cached_input: 0.5 }));
        assert!(Prices::default().with_overrides("broken").is_err());
        assert!(Prices::default().with_overrides("m=1/2").is_err());
        assert!(Prices::default().with_overrides("m=1/-2/0").is_err());
    }

    #[test]
    fn budgets_start_at_midnight_and_the_first_of_the_month_utc() {
        // 2026-11-26T15:30:00Z
        let (day, month) = budget_periods(1_795_707_000_000);
        assert_eq!(day, 1_795_651_200_000);
        assert_eq!(month, 1_793_491_200_000);
    }

    #[test]
    fn a_reached_budget_says_which_and_what_to_do() {
        assert_eq!(over_budget(0.5, 3.0, Some(1.0), Some(10.0), Whose::Own), None);
        assert!(over_budget(1.0, 3.0, Some(1.0), None, Whose::Own).unwrap().contains("your daily chat budget"));
        assert!(over_budget(0.1, 10.5, None, Some(10.0), Whose::Own).unwrap().contains("Settings → Chat"));
        let server = over_budget(2.0, 2.0, Some(2.0), None, Whose::ServerKey).unwrap();
        assert!(server.contains("your administrator set") && server.contains("API key of your own"), "{server}");
    }
}
