//! A TCP proxy on a master-replica link: the replica connects to the proxy, the proxy to the
//! master. It gives the link what loopback lacks (a bandwidth cap, a latency) and cuts it for
//! the scenario's faults. The same proxy serves redis-server and replscope server alike.
//!
//! Each direction is two threads joined by a small bounded channel: a reader that takes bytes
//! off the source no faster than a token bucket allows (so the rest waits in the sender's
//! buffers, where Redis's output buffer limit sees it), and a writer that delivers each chunk
//! `latency` after it was read. The bucket is the link's, one per direction, shared by every
//! connection through the proxy: Redis 8.2's RDB channel and Valkey's dual channel carry the
//! RDB and the stream on two connections over the same link, as the simulator models them.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Shared {
    target: u16,
    /// Bytes per second, each direction (0 = unlimited).
    bandwidth: u64,
    latency: Duration,
    cut: AtomicBool,
    stop: AtomicBool,
    /// Live connections: (replica side, master side).
    conns: Mutex<Vec<(TcpStream, TcpStream)>>,
    /// Local ports of the proxy's connections to the master: how the master's log and CLIENT
    /// LIST name this replica's connection (`addr=127.0.0.1:<port>`).
    upstream_ports: Mutex<Vec<u16>>,
    /// Live connections broken by a cut.
    broken_by_cuts: AtomicU64,
    /// The link's bandwidth, master to replica and replica to master.
    to_replica: Mutex<Bucket>,
    to_master: Mutex<Bucket>,
}

/// A token bucket of ~10 ms: bytes taken so far, since `start`.
struct Bucket {
    start: Instant,
    taken: u64,
}

impl Bucket {
    fn new() -> Bucket {
        Bucket {
            start: Instant::now(),
            taken: 0,
        }
    }

    /// Takes `n` bytes at `rate` bytes/s: how long the taker waits before reading more.
    fn take(&mut self, n: u64, rate: u64) -> Duration {
        let slack = Duration::from_millis(10);
        let el = self.start.elapsed();
        let due = Duration::from_secs_f64(self.taken as f64 / rate as f64);
        if el > due + slack {
            // Idle time does not bank credit beyond the bucket.
            self.taken = ((el.as_secs_f64() - 0.01) * rate as f64) as u64;
        }
        self.taken += n;
        let due = Duration::from_secs_f64(self.taken as f64 / rate as f64);
        due.saturating_sub(el + slack)
    }
}

pub struct Proxy {
    pub port: u16,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `127.0.0.1:target`.
    pub fn start(target: u16, bandwidth: u64, latency_ms: u64) -> Result<Proxy, String> {
        let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("proxy bind: {e}"))?;
        let port = l
            .local_addr()
            .map_err(|e| format!("proxy addr: {e}"))?
            .port();
        let shared = Arc::new(Shared {
            target,
            bandwidth,
            latency: Duration::from_millis(latency_ms),
            cut: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            conns: Mutex::new(Vec::new()),
            upstream_ports: Mutex::new(Vec::new()),
            broken_by_cuts: AtomicU64::new(0),
            to_replica: Mutex::new(Bucket::new()),
            to_master: Mutex::new(Bucket::new()),
        });
        let sh = shared.clone();
        std::thread::spawn(move || accept_loop(l, sh));
        Ok(Proxy { port, shared })
    }

    /// Cuts the link: live connections break at once, new ones are closed on accept until
    /// [`Proxy::restore`].
    pub fn cut(&self) {
        self.shared.cut.store(true, Ordering::SeqCst);
        let conns: Vec<_> = self
            .shared
            .conns
            .lock()
            .map(|mut c| c.drain(..).collect())
            .unwrap_or_default();
        for (a, b) in conns {
            let _ = a.shutdown(Shutdown::Both);
            let _ = b.shutdown(Shutdown::Both);
            self.shared.broken_by_cuts.fetch_add(1, Ordering::SeqCst);
        }
    }

    pub fn restore(&self) {
        self.shared.cut.store(false, Ordering::SeqCst);
    }

    pub fn upstream_ports(&self) -> Vec<u16> {
        self.shared
            .upstream_ports
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default()
    }

    pub fn broken_by_cuts(&self) -> u64 {
        self.shared.broken_by_cuts.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.cut();
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn accept_loop(l: TcpListener, sh: Arc<Shared>) {
    for s in l.incoming() {
        if sh.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(down) = s else { continue };
        if sh.cut.load(Ordering::SeqCst) {
            // The link is down: the replica's connect "succeeds" but nothing gets through.
            let _ = down.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(up) = connect_upstream(sh.target) else {
            let _ = down.shutdown(Shutdown::Both);
            continue;
        };
        let _ = up.set_nodelay(true);
        let _ = down.set_nodelay(true);
        small_buffers(&up, &down);
        if let (Ok(a), Ok(b), Ok(local)) = (down.try_clone(), up.try_clone(), up.local_addr()) {
            if let Ok(mut p) = sh.upstream_ports.lock() {
                p.push(local.port());
            }
            if let Ok(mut c) = sh.conns.lock() {
                c.push((a, b));
            }
        }
        for (src, dst, to_replica) in [
            (down.try_clone(), up.try_clone(), false),
            (up.try_clone(), down.try_clone(), true),
        ] {
            if let (Ok(src), Ok(dst)) = (src, dst) {
                let sh = sh.clone();
                std::thread::spawn(move || pipe(src, dst, sh, to_replica));
            }
        }
    }
}

/// Kernel socket buffers hold bytes the master no longer counts in its output buffer, and
/// Linux grows them to megabytes on loopback (64 KiB segments, send buffer autotuned to a
/// few times cwnd x MSS). The proxy cannot size the master's buffers, but it can make them
/// small: it connects with a 1400-byte MSS (TCP_MAXSEG, as on a real network), so the master's
/// send buffer stays near its 16-64 KiB start, and it uses small fixed buffers of its own.
/// While the replica reads, what is in flight stays ~100-200 KiB per direction; a replica
/// that stops reading (loading) or a burst (`+CONTINUE`) still leaves up to MBs in the
/// kernels, which the simulator models (`sim::net::SEND_BUFFER`, `RECV_BUFFER`).
const SOCKET_BUFFER: usize = 32 * 1024; // the kernel doubles it
const MSS: u32 = 1400;

fn connect_upstream(port: u16) -> std::io::Result<TcpStream> {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    s.set_tcp_mss(MSS)?;
    s.set_recv_buffer_size(SOCKET_BUFFER)?;
    s.set_send_buffer_size(SOCKET_BUFFER)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    s.connect_timeout(&addr.into(), Duration::from_secs(2))?;
    Ok(s.into())
}

fn small_buffers(_up: &TcpStream, down: &TcpStream) {
    let s = socket2::SockRef::from(down);
    let _ = s.set_send_buffer_size(SOCKET_BUFFER);
    let _ = s.set_recv_buffer_size(SOCKET_BUFFER);
}

/// One direction of one connection: read under the link's token bucket for that direction,
/// deliver `latency` later.
fn pipe(mut src: TcpStream, mut dst: TcpStream, sh: Arc<Shared>, to_replica: bool) {
    let rate = sh.bandwidth;
    // Chunks of ~10 ms worth of bytes keep the pacing smooth without tiny writes.
    let chunk = if rate == 0 {
        64 * 1024
    } else {
        ((rate / 100) as usize).clamp(1024, 64 * 1024)
    };
    let (tx, rx) = sync_channel::<(Instant, Vec<u8>)>(4);
    let latency = sh.latency;
    let (s2, d2) = (src.try_clone(), dst.try_clone());
    let writer = std::thread::spawn(move || {
        while let Ok((at, data)) = rx.recv() {
            let due = at + latency;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if dst.write_all(&data).is_err() {
                break;
            }
        }
        let _ = dst.shutdown(Shutdown::Both);
    });
    let mut buf = vec![0u8; chunk];
    let bucket = if to_replica {
        &sh.to_replica
    } else {
        &sh.to_master
    };
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
            break;
        }
        if rate > 0 {
            // Wait until the bytes the link has taken so far (all its connections) are due.
            let wait = bucket
                .lock()
                .map(|mut b| b.take(n as u64, rate))
                .unwrap_or_default();
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
        }
    }
    drop(tx);
    let _ = writer.join();
    if let Ok(s) = s2 {
        let _ = s.shutdown(Shutdown::Both);
    }
    if let Ok(d) = d2 {
        let _ = d.shutdown(Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A server that sends `n` bytes to whoever connects, then waits for EOF.
    fn source(n: usize) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                std::thread::spawn(move || {
                    let _ = s.write_all(&vec![7u8; n]);
                    let mut b = [0u8; 16];
                    let _ = s.read(&mut b);
                });
            }
        });
        port
    }

    #[test]
    fn shapes_bandwidth() {
        let p = Proxy::start(source(300_000), 1_000_000, 1).unwrap();
        let mut c = TcpStream::connect(("127.0.0.1", p.port)).unwrap();
        let start = Instant::now();
        let mut got = 0;
        let mut b = vec![0u8; 65536];
        while got < 300_000 {
            let n = c.read(&mut b).unwrap();
            assert!(n > 0, "closed after {got} bytes");
            got += n;
        }
        let el = start.elapsed().as_secs_f64();
        // 300 kB at 1 MB/s: 0.3 s, less the 10 ms bucket.
        assert!((0.25..0.6).contains(&el), "took {el} s");
    }

    /// Two connections at once (an RDB channel beside the main one) share the link.
    #[test]
    fn connections_share_the_links_bandwidth() {
        let p = Proxy::start(source(150_000), 1_000_000, 1).unwrap();
        let start = Instant::now();
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let mut c = TcpStream::connect(("127.0.0.1", p.port)).unwrap();
                std::thread::spawn(move || {
                    let (mut got, mut b) = (0, vec![0u8; 65536]);
                    while got < 150_000 {
                        let n = c.read(&mut b).unwrap();
                        assert!(n > 0, "closed after {got} bytes");
                        got += n;
                    }
                })
            })
            .collect();
        for r in readers {
            r.join().unwrap();
        }
        let el = start.elapsed().as_secs_f64();
        // 2 x 150 kB at 1 MB/s for the link: 0.3 s, not the 0.15 s of a bucket each.
        assert!((0.25..0.6).contains(&el), "took {el} s");
    }

    #[test]
    fn cut_breaks_live_connections_and_refuses_new_ones_until_restored() {
        let p = Proxy::start(source(10), 0, 0).unwrap();
        let mut c = TcpStream::connect(("127.0.0.1", p.port)).unwrap();
        let mut b = [0u8; 10];
        c.read_exact(&mut b).unwrap();
        p.cut();
        assert_eq!(p.broken_by_cuts(), 1);
        let mut rest = Vec::new();
        assert!(matches!(c.read_to_end(&mut rest), Ok(0) | Err(_)));
        let mut d = TcpStream::connect(("127.0.0.1", p.port)).unwrap();
        assert!(
            matches!(d.read(&mut b), Ok(0) | Err(_)),
            "got bytes through a cut link"
        );
        p.restore();
        let mut e = TcpStream::connect(("127.0.0.1", p.port)).unwrap();
        e.read_exact(&mut b).unwrap();
        assert_eq!(b, [7u8; 10]);
        assert_eq!(p.upstream_ports().len(), 2);
    }
}
