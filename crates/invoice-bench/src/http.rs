//! A minimal keep-alive HTTP/1.1 client over `TcpStream`, so the load
//! generator spends as little CPU as possible beside the server it measures.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Path and query.
    pub path: String,
    /// Bearer key, if any.
    pub key: Option<String>,
    /// JSON body, if any.
    pub body: Option<String>,
}

impl Request {
    /// A `GET` with an optional key.
    pub fn get(path: String, key: Option<&str>) -> Request {
        Request {
            method: "GET",
            path,
            key: key.map(str::to_owned),
            body: None,
        }
    }

    /// A `POST` with a JSON body.
    pub fn post(path: String, key: &str, body: &str) -> Request {
        Request {
            method: "POST",
            path,
            key: Some(key.to_owned()),
            body: Some(body.to_owned()),
        }
    }
}

/// A response: status and body.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Body bytes as text (the API only answers text).
    pub body: String,
}

/// One keep-alive connection that reconnects after a failure.
pub struct Client {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    out: Vec<u8>,
    buf: Vec<u8>,
}

impl Client {
    /// A client for `addr`; connects lazily.
    pub fn new(addr: SocketAddr) -> Client {
        Client {
            addr,
            stream: None,
            out: Vec::with_capacity(1024),
            buf: Vec::with_capacity(64 * 1024),
        }
    }

    fn connect(&mut self) -> io::Result<&mut TcpStream> {
        if self.stream.is_none() {
            let s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(Duration::from_secs(30)))?;
            self.stream = Some(s);
            self.buf.clear();
        }
        Ok(self.stream.as_mut().expect("just connected"))
    }

    /// Sends `req` and reads the whole response; drops the connection on any error.
    pub fn send(&mut self, req: &Request) -> io::Result<Response> {
        let result = self.exchange(req);
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    fn exchange(&mut self, req: &Request) -> io::Result<Response> {
        self.out.clear();
        write!(self.out, "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\n", req.method, req.path)?;
        if let Some(k) = &req.key {
            write!(self.out, "Authorization: Bearer {k}\r\n")?;
        }
        match &req.body {
            Some(b) => write!(
                self.out,
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            )?,
            None if req.method == "POST" => self.out.extend_from_slice(b"Content-Length: 0\r\n\r\n"),
            None => self.out.extend_from_slice(b"\r\n"),
        }
        let out = std::mem::take(&mut self.out);
        let written = self.connect().and_then(|s| s.write_all(&out));
        self.out = out;
        written?;
        self.read_response()
    }

    /// Reads until `self.buf` holds at least `n` bytes.
    fn fill_to(&mut self, n: usize) -> io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        while self.buf.len() < n {
            let stream = self.stream.as_mut().ok_or_else(|| io::Error::other("not connected"))?;
            let got = stream.read(&mut chunk)?;
            if got == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"));
            }
            self.buf.extend_from_slice(&chunk[..got]);
        }
        Ok(())
    }

    /// Reads more bytes until `pat` occurs, returning the index just past it.
    fn fill_until(&mut self, from: usize, pat: &[u8]) -> io::Result<usize> {
        loop {
            if let Some(i) = self.buf[from..].windows(pat.len()).position(|w| w == pat) {
                return Ok(from + i + pat.len());
            }
            let have = self.buf.len();
            self.fill_to(have + 1)?;
        }
    }

    fn read_response(&mut self) -> io::Result<Response> {
        let head_end = self.fill_until(0, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(io::Error::other)?;
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::other("bad status line"))?;
        let mut length = None;
        let mut chunked = false;
        let mut close = false;
        for line in head.split("\r\n").skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        let body = if chunked {
            let mut body = Vec::new();
            let mut at = head_end;
            loop {
                let line_end = self.fill_until(at, b"\r\n")?;
                let size_text = std::str::from_utf8(&self.buf[at..line_end - 2]).map_err(io::Error::other)?;
                let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                    .map_err(io::Error::other)?;
                self.fill_to(line_end + size + 2)?;
                body.extend_from_slice(&self.buf[line_end..line_end + size]);
                at = line_end + size + 2;
                if size == 0 {
                    break;
                }
            }
            self.buf.drain(..at);
            body
        } else {
            let n = length.unwrap_or(0);
            self.fill_to(head_end + n)?;
            let body = self.buf[head_end..head_end + n].to_vec();
            self.buf.drain(..head_end + n);
            body
        };
        if close {
            self.stream = None;
        }
        Ok(Response {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}
