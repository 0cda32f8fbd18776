//! Masking for outbound AI calls (feature `mask`): the prompt leaves masked,
//! the reply comes back unmasked.
//!
//! The host implements [`CompletionClient`] for its model API (one call:
//! masked prompt in, reply out). [`MaskedCompletion`] wraps it: it masks the
//! prompt with a `custodia_mask::Masker` whose policy tokenizes, recording
//! each value in the conversation's `TokenVault` (`<EMAIL_1>`, the same token
//! for the same value all conversation long), sends only the masked text, and
//! replaces the tokens in the reply with the original values. The model never
//! sees a personal value the detector finds; the vault, which holds them,
//! never leaves the process.

use std::future::Future;
use std::pin::Pin;

use custodia_mask::{Masker, Report, TokenVault};

use crate::Error;

/// The future a [`CompletionClient`] returns: the model's reply, or why the
/// call failed: the host's own error, kept as the `source()` of
/// [`Error::Upstream`] for the host's logs (the client sees 502 and no
/// detail). A message alone converts with `.into()`.
pub type CompletionFuture<'a> = Pin<
    Box<
        dyn Future<Output = Result<String, Box<dyn std::error::Error + Send + Sync + 'static>>>
            + Send
            + 'a,
    >,
>;

/// The host's outbound completion call.
pub trait CompletionClient: Send + Sync {
    /// Sends `prompt` (already masked) and returns the model's reply.
    fn complete<'a>(&'a self, prompt: &'a str) -> CompletionFuture<'a>;
}

/// A reply with its tokens replaced by the original values.
///
/// Its `Debug` shows the reply's length, never its text: the unmasked reply
/// holds personal data, and a `{:?}` in a log line must not write it there.
#[derive(Clone, PartialEq)]
pub struct Completion {
    /// The reply, unmasked.
    pub reply: String,
    /// What was masked in the prompt (kinds and positions, no values).
    pub report: Report,
}

impl std::fmt::Debug for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completion")
            .field(
                "reply",
                &format_args!("[{} bytes, unmasked]", self.reply.len()),
            )
            .field("report", &self.report)
            .finish()
    }
}

/// A [`CompletionClient`] that only ever sees masked text.
///
/// ```
/// use custodia_axum::completion::{CompletionClient, CompletionFuture, MaskedCompletion};
/// use custodia_mask::{Detector, MaskPolicy, Masker, Strategy, TokenVault};
///
/// struct Echo;
/// impl CompletionClient for Echo {
///     fn complete<'a>(&'a self, prompt: &'a str) -> CompletionFuture<'a> {
///         Box::pin(async move { Ok(format!("Reply to: {prompt}")) })
///     }
/// }
///
/// let masker = Masker::new(Detector::new()).with_policy(MaskPolicy::new(Strategy::Tokenize))?;
/// let ai = MaskedCompletion::new(Echo, masker);
/// let mut vault = TokenVault::new();
/// let runtime = tokio::runtime::Builder::new_current_thread().build()?;
/// let done = runtime.block_on(ai.complete(&mut vault, "Mail ana@example.com"))?;
/// assert_eq!(done.reply, "Reply to: Mail ana@example.com");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Its `Debug` shows the masker, not the client: a host's client often
/// holds the model API's key, and a derived `Debug` of it would write the
/// key into any log line that prints this.
pub struct MaskedCompletion<C> {
    client: C,
    masker: Masker,
}

impl<C> std::fmt::Debug for MaskedCompletion<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaskedCompletion")
            .field("masker", &self.masker)
            .finish_non_exhaustive()
    }
}

impl<C: CompletionClient> MaskedCompletion<C> {
    /// Wraps `client`; prompts are masked by `masker`. Give it a policy that
    /// tokenizes what the reply should be able to name (`Strategy::Tokenize`);
    /// what it redacts or pseudonymises stays so in the reply.
    pub fn new(client: C, masker: Masker) -> Self {
        Self { client, masker }
    }

    /// Masks `prompt` into `vault` (keep one vault per conversation), sends
    /// it, and unmasks the reply with the same vault.
    ///
    /// The reply is unmasked with every token `vault` holds, not only those
    /// of this prompt: one the model names from an earlier turn comes back
    /// as its value. Text of the prompt that already looks like a token
    /// (`<EMAIL_1>` typed by the user) is masked as a token of its own
    /// (`<LITERAL_n>`) and comes back as that text, never as a value. Still,
    /// the model can name any token the vault holds, so a vault is the
    /// values of everyone whose data went into it: never share one across
    /// tenants, or between people who may not see each other's data. A
    /// token the vault never issued stays as the model wrote it.
    pub async fn complete(
        &self,
        vault: &mut TokenVault,
        prompt: &str,
    ) -> Result<Completion, Error> {
        let masked = self.masker.mask_tokenized(prompt, vault)?;
        let reply = self
            .client
            .complete(&masked.text)
            .await
            .map_err(|cause| Error::Upstream {
                service: "completion",
                cause,
            })?;
        Ok(Completion {
            reply: vault.unmask(&reply),
            report: masked.report,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use custodia_mask::{Detector, MaskPolicy, Strategy};

    /// A model that records what it was sent and answers with its tokens.
    #[derive(Default)]
    struct Recorder {
        sent: Mutex<Vec<String>>,
        fail: bool,
    }

    impl CompletionClient for Recorder {
        fn complete<'a>(&'a self, prompt: &'a str) -> CompletionFuture<'a> {
            Box::pin(async move {
                self.sent.lock().unwrap().push(prompt.to_owned());
                if self.fail {
                    return Err("HTTP 503 from the model API".into());
                }
                Ok(format!("Draft: we will write to <EMAIL_1> about {prompt}"))
            })
        }
    }

    fn masked(client: Recorder) -> MaskedCompletion<Recorder> {
        let policy = MaskPolicy::new(Strategy::Tokenize);
        MaskedCompletion::new(
            client,
            Masker::new(Detector::new()).with_policy(policy).unwrap(),
        )
    }

    fn run<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn the_model_sees_tokens_and_the_reply_gets_values_back() {
        let ai = masked(Recorder::default());
        let mut vault = TokenVault::new();
        let done = run(ai.complete(&mut vault, "Customer ana@example.com cannot log in")).unwrap();
        let sent = ai.client.sent.lock().unwrap().clone();
        assert_eq!(sent, ["Customer <EMAIL_1> cannot log in"]);
        assert_eq!(
            done.reply,
            "Draft: we will write to ana@example.com about Customer ana@example.com cannot log in"
        );
        assert_eq!(done.report.total(), 1);
        // The same value keeps its token in the next turn of the conversation.
        run(ai.complete(&mut vault, "ana@example.com again")).unwrap();
        assert_eq!(ai.client.sent.lock().unwrap()[1], "<EMAIL_1> again");
    }

    /// A `{:?}` of a completion (a log line) shows the reply's length, not
    /// the personal values unmasking put back into it.
    #[test]
    fn a_completions_debug_never_shows_the_unmasked_reply() {
        let done = Completion {
            reply: "Reset access for ana@example.com".into(),
            report: Report::default(),
        };
        let shown = format!("{done:?}");
        assert!(!shown.contains("ana@example.com"), "{shown}");
        assert!(shown.contains("32 bytes"), "{shown}");
    }

    /// What the docs warn of: a vault answers every token the model names,
    /// so a vault shared across tenants hands one tenant's values to
    /// another (here the recording model writes `<EMAIL_1>` itself).
    #[test]
    fn a_vault_unmasks_every_token_it_holds_so_it_is_never_shared() {
        let ai = masked(Recorder::default());
        let mut shared = TokenVault::new();
        run(ai.complete(&mut shared, "Tenant A: ana@example.com")).unwrap();
        let done = run(ai.complete(&mut shared, "Tenant B asks for <EMAIL_1>")).unwrap();
        assert!(done.reply.contains("ana@example.com"), "{}", done.reply);
        // A conversation's own vault knows nothing of it.
        let done = run(ai.complete(&mut TokenVault::new(), "Tenant B asks for <EMAIL_1>")).unwrap();
        assert!(!done.reply.contains("ana@example.com"), "{}", done.reply);
        assert!(done.reply.contains("<EMAIL_1>"), "{}", done.reply);
    }

    /// A token the user typed into the prompt is text, not a reference: the
    /// model sees a token of its own for it, and the reply gives back the
    /// typed text, never the value the vault holds under that token.
    #[test]
    fn a_token_typed_in_the_prompt_comes_back_as_typed() {
        let ai = masked(Recorder::default());
        let mut vault = TokenVault::new();
        let done = run(ai.complete(&mut vault, "Write to ana@example.com, cc <EMAIL_1>")).unwrap();
        let sent = ai.client.sent.lock().unwrap().clone();
        assert!(!sent[0].contains("cc <EMAIL_1>"), "{}", sent[0]);
        assert!(
            done.reply
                .ends_with("Write to ana@example.com, cc <EMAIL_1>"),
            "{}",
            done.reply
        );
    }

    /// Found in review: `MaskedCompletion` derived `Debug`, which printed
    /// the host's client with its own `Debug`, API key and all.
    #[test]
    fn a_masked_completions_debug_never_shows_the_client() {
        #[derive(Debug)]
        struct KeyedClient {
            #[allow(dead_code)]
            api_key: &'static str,
        }
        impl CompletionClient for KeyedClient {
            fn complete<'a>(&'a self, _: &'a str) -> CompletionFuture<'a> {
                Box::pin(async { Ok(String::new()) })
            }
        }
        let policy = MaskPolicy::new(Strategy::Tokenize);
        let ai = MaskedCompletion::new(
            KeyedClient {
                api_key: "sk-live-0123456789",
            },
            Masker::new(Detector::new()).with_policy(policy).unwrap(),
        );
        let shown = format!("{ai:?}");
        assert!(!shown.contains("sk-live"), "{shown}");
        assert!(shown.contains("Masker"), "{shown}");
    }

    #[test]
    fn a_failed_call_is_a_502_without_detail() {
        let ai = masked(Recorder {
            fail: true,
            ..Recorder::default()
        });
        let e = run(ai.complete(&mut TokenVault::new(), "hi")).unwrap_err();
        assert_eq!(e.status(), axum::http::StatusCode::BAD_GATEWAY);
        assert_eq!(e.public_message(), "the completion service failed");
        assert!(e.to_string().contains("503"));
    }
}
