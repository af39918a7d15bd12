//! How a data source reaches its provider: one `GET` per request, behind a
//! trait so tests (and users behind a proxy or with their own client) can
//! replace the network.

use std::time::Duration;

use crate::error::{Error, Result};

/// A provider's answer: the HTTP status and the body's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status code (200 for success).
    pub status: u16,
    /// The body as received.
    pub body: Vec<u8>,
}

/// Performs `GET` requests for the data sources.
///
/// An implementation returns `Ok` for any answer the server gave, whatever
/// its status (the source reads the provider's error from the body), and
/// `Err` only when no answer arrived (DNS, connection, TLS, time-out).
pub trait Transport: Send + Sync {
    /// Fetches `url`.
    fn get(&self, url: &str) -> std::result::Result<Reply, String>;
}

/// The default transport: HTTPS through `ureq` (rustls, gzip), with a
/// time-out per request and a body limit.
///
/// The network is the user's: requests go to the provider's public
/// endpoints under the provider's terms of use, from the user's machine.
#[derive(Debug, Clone)]
pub struct Http {
    agent: ureq::Agent,
}

/// The largest body read (a daily history since 1962 is about 2 MB of JSON).
const BODY_LIMIT: u64 = 64 * 1024 * 1024;

impl Http {
    /// A transport with a 30-second time-out per request.
    pub fn new() -> Self {
        Http::with_timeout(Duration::from_secs(30))
    }

    /// A transport whose requests fail after `timeout` (connection and
    /// body together).
    pub fn with_timeout(timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            // Yahoo's chart API answers a library's default agent with 429.
            .user_agent("Mozilla/5.0 (compatible; assetalloc)")
            .build();
        Http { agent: ureq::Agent::new_with_config(config) }
    }
}

impl Default for Http {
    fn default() -> Self {
        Http::new()
    }
}

impl Transport for Http {
    fn get(&self, url: &str) -> std::result::Result<Reply, String> {
        let mut response = self.agent.get(url).call().map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(BODY_LIMIT).read_to_vec().map_err(|e| e.to_string())?;
        Ok(Reply { status, body })
    }
}

/// `reply` for `symbol` from `provider`, or an error naming the transport's
/// failure.
pub(crate) fn request(transport: &dyn Transport, provider: &str, symbol: &str, url: &str) -> Result<Reply> {
    transport.get(url).map_err(|reason| Error::Fetch {
        provider: provider.to_string(),
        symbol: symbol.to_string(),
        reason: format!("no answer from {url}: {reason}"),
    })
}

/// The start of a body for an error message: at most 200 characters, on
/// one line.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// `s` percent-encoded for a URL's path or query: unreserved characters
/// (RFC 3986) pass, every other byte becomes `%XX`.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_passes_unreserved_and_escapes_the_rest() {
        assert_eq!(encode("BRK-B"), "BRK-B");
        assert_eq!(encode("^GSPC"), "%5EGSPC");
        assert_eq!(encode("EURUSD=X"), "EURUSD%3DX");
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt(b"<html>\n  <body>Not found</body>\n</html>"), "<html> <body>Not found</body> </html>");
        let long = "x".repeat(500);
        assert_eq!(excerpt(long.as_bytes()).chars().count(), 201);
    }
}
