//! Raw HTTP/1.1 over TCP, for what a well-behaved client never does: stop halfway through the headers or the
//! body, declare a huge body, or come from another loopback address (127.0.0.2, ...) to play another client.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A connection to `to` from the loopback address `from` (any port).
pub fn connect_from(from: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.bind(&SocketAddr::from((from, 0)).into())?;
    socket.connect_timeout(&to.into(), Duration::from_secs(2))?;
    Ok(socket.into())
}

/// Whether the server closed `stream` within `within` (a read ends or fails), reading and dropping any answer.
pub fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buffer = [0u8; 4096];
    while Instant::now() < deadline {
        stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

/// Sends `head` (and `body`) as they are, then reads the answer's status line, waiting at most `within`.
pub fn status_of(stream: &mut TcpStream, head: &str, body: &[u8], within: Duration) -> Option<u16> {
    stream.write_all(head.as_bytes()).ok()?;
    let _ = stream.write_all(body);
    stream.set_read_timeout(Some(within)).unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let n = stream.read(&mut buffer).ok()?;
        if n == 0 {
            return None;
        }
        answer.extend_from_slice(&buffer[..n]);
    }
    String::from_utf8_lossy(&answer).split(' ').nth(1)?.parse().ok()
}

/// A process's resident memory in KiB, from /proc.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// POSTs `body` to `to` from the loopback address `from`; the answer's status, or none when the connection failed.
pub fn post_from(from: Ipv4Addr, to: SocketAddr, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Option<u16> {
    let mut stream = connect_from(from, to).ok()?;
    let mut head =
        format!("POST {path} HTTP/1.1\r\nHost: {to}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    status_of(&mut stream, &head, body, Duration::from_secs(10))
}

/// A child process (a `serve` under test), killed when dropped: also when the test fails first.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
