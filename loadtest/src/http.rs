//! A small HTTP/1.1 client for the admin and client APIs: JSON in, JSON out, one
//! connection per request, a timeout on each. Enough for seeding a directory and reading
//! records; nothing here is on a measured path.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::LoadError;

/// A server's HTTP address.
#[derive(Clone, Copy, Debug)]
pub struct Http {
    /// Where.
    pub addr: SocketAddr,
}

impl Http {
    /// `method path`: the status and the body.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<(u16, String), LoadError> {
        let fail = |message: String| LoadError::Http { path: path.to_string(), message };
        let work = async {
            let mut s = TcpStream::connect(self.addr).await.map_err(|e| fail(e.to_string()))?;
            let body = body.map(Value::to_string).unwrap_or_default();
            let auth = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
            let req = format!(
                "{method} {path} HTTP/1.1\r\nhost: kakehashi\r\nconnection: close\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            s.write_all(req.as_bytes()).await.map_err(|e| fail(e.to_string()))?;
            let mut out = Vec::new();
            s.read_to_end(&mut out).await.map_err(|e| fail(e.to_string()))?;
            Ok::<Vec<u8>, LoadError>(out)
        };
        let out = tokio::time::timeout(Duration::from_secs(30), work).await.map_err(|_| fail("timed out".into()))??;
        let text = String::from_utf8_lossy(&out);
        let status: u16 = text.get(9..12).and_then(|s| s.parse().ok()).ok_or_else(|| fail("no status line".into()))?;
        let (head, rest) = text.split_once("\r\n\r\n").ok_or_else(|| fail("no header end".into()))?;
        let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            dechunk(rest)
        } else {
            rest.to_string()
        };
        Ok((status, body))
    }

    /// `method path` with an optional bearer token and JSON body; the JSON answer (or
    /// `Null` for an empty one). A status of 400 or more is an error with the body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Value, LoadError> {
        let (status, body) = self.raw(method, path, token, body).await?;
        let fail = |message: String| LoadError::Http { path: path.to_string(), message };
        if status >= 400 {
            return Err(fail(format!("{status} {body}")));
        }
        if body.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&body).map_err(|e| fail(format!("{e}: {body}")))
    }

    /// Whether `GET path` answers 200 (for `/healthz`, whose body is not JSON).
    pub async fn ok(&self, path: &str) -> bool {
        matches!(self.raw("GET", path, None, None).await, Ok((200, _)))
    }

    /// `GET`.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Result<Value, LoadError> {
        self.call("GET", path, token, None).await
    }

    /// `POST` with a body.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Result<Value, LoadError> {
        self.call("POST", path, token, Some(body)).await
    }
}

/// A chunked body, put back together.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(super::dechunk("4\r\n[1,2\r\n2\r\n,3\r\n1\r\n]\r\n0\r\n\r\n"), "[1,2,3]");
        assert_eq!(super::dechunk("garbage"), "");
    }
}
