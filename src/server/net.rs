//! Sockets: the listeners, one task per client connection, and the connections the core opens
//! (our master link). Bytes in are parsed here and handed to the dispatcher; bytes out are
//! taken from the core, which holds every reply and the replication stream.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify};

use super::dispatch;
use super::driver::{after_batch, run_actions, ConnectRequest, Shared};
use super::seam;
use super::types::Flow;
use crate::core::{ConnId, Input, Payload};
use crate::wire::request::RequestParser;
use crate::wire::{Parsed, Reply, RequestLimits};

/// Accepts clients on `listener` until shutdown.
pub fn spawn_listener(sh: &Shared, listener: TcpListener) {
    let sh = sh.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = sh.shutdown.notified() => return,
                r = listener.accept() => match r {
                    Ok((stream, peer)) => {
                        let sh = sh.clone();
                        tokio::spawn(async move { serve_client(sh, stream, peer.to_string()).await });
                    }
                    Err(e) => {
                        sh.lock().warning(&format!("Accepting client connection: {e}"));
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        }
    });
}

/// Opens the connections the core asks for (our master link), until shutdown.
pub fn spawn_connector(sh: &Shared, mut requests: mpsc::UnboundedReceiver<ConnectRequest>) {
    let sh = sh.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = sh.shutdown.notified() => return,
                r = requests.recv() => match r {
                    Some((conn, host, port)) => {
                        let sh = sh.clone();
                        tokio::spawn(async move { run_link(sh, conn, host, port).await });
                    }
                    None => return,
                }
            }
        }
    });
}

async fn serve_client(sh: Shared, mut stream: TcpStream, peer: String) {
    let _ = stream.set_nodelay(true);
    // acceptCommonHandler: at `maxclients` the new connection gets the error written
    // straight to its socket and is closed.
    let full = {
        let mut e = sh.lock();
        let full = e.client_count() as u64 >= e.cfg().maxclients;
        if full {
            e.stats_mut().rejected_connections += 1;
        }
        full
    };
    if full {
        let _ = stream
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        return;
    }
    let local = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let notify = Arc::new(Notify::new());
    let id = {
        let mut e = sh.lock();
        let id = e.add_client(peer, local, notify.clone());
        seam::pump(&mut e);
        id
    };
    let (mut rd, mut wr) = stream.into_split();
    let mut parser = RequestParser::default();
    let mut chunk = vec![0u8; 64 * 1024];
    // Bytes read and not yet run, bytes written and not yet counted in INFO.
    let (mut fresh, mut written) = (0usize, 0u64);
    loop {
        // One turn, under one lock: run what arrived, hand the writes to the core, take what
        // is queued for us and the work the engine asks of the driver.
        let turn = {
            let mut e = sh.lock();
            let ran = if fresh > 0 || parser.buffered() > 0 {
                run_input(&mut e, id, &mut parser, std::mem::take(&mut fresh))
            } else {
                Ran::Ok
            };
            seam::flush_propagation(&mut e);
            e.stats_mut().total_net_output_bytes += std::mem::take(&mut written);
            let max = e.write_budget(id);
            let mut out = seam::take_outgoing(&mut e, ConnId(id), max);
            e.charge_budget(id, out.len());
            // `writeToClient` writes a replica until the kernel takes no more (replicas are
            // exempt from NET_MAX_WRITES_PER_EVENT), before any other client runs: a PSYNC's
            // backlog leaves `omem` in the turn that queued it, as in Redis, and no CLIENT
            // LIST sees it half taken. What the kernel refuses waits below, one chunk at most.
            if e.writes_until_refused(id) {
                while !out.is_empty() {
                    match wr.try_write(&out) {
                        Ok(n) if n == out.len() => {
                            written += n as u64;
                            out = seam::take_outgoing(&mut e, ConnId(id), max);
                        }
                        Ok(n) => {
                            written += n as u64;
                            out.drain(..n);
                            break;
                        }
                        // Would block, or an error the write below reports.
                        Err(_) => break,
                    }
                }
            }
            Turn {
                ran,
                out,
                close: e.should_close(id),
                pending: e.pending_outgoing(id),
                actions: e.take_actions(),
            }
        };
        run_actions(&sh, turn.actions);
        match turn.ran {
            Ran::Ok => {}
            Ran::Drop => break,
            Ran::Sleep(d) => {
                // DEBUG SLEEP blocks the whole server, as it does in Redis; what was pipelined
                // after it runs on the next turn, after its reply is sent.
                block_for(&sh, d);
            }
        }
        if !turn.out.is_empty() {
            if wr.write_all(&turn.out).await.is_err() {
                break;
            }
            written += turn.out.len() as u64;
            if turn.pending > 0 || parser.buffered() > 0 {
                continue;
            }
        } else if turn.close {
            break;
        } else if parser.buffered() > 0 && matches!(turn.ran, Ran::Sleep(_)) {
            continue;
        }
        // Bytes left but no budget: the bandwidth cap holds them back a moment.
        let throttled = turn.pending > 0;
        tokio::select! {
            r = rd.read(&mut chunk) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    parser.feed(&chunk[..n]);
                    fresh = n;
                }
            },
            _ = notify.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(5)), if throttled => {}
            _ = sh.shutdown.notified() => break,
        }
    }
    {
        let mut e = sh.lock();
        e.stats_mut().total_net_output_bytes += written;
        e.remove_client(id);
        seam::core_handle(
            &mut e,
            Input::Closed {
                conn: ConnId(id),
                error: "connection closed by peer".into(),
            },
        );
    }
    after_batch(&sh);
}

/// What a connection's turn produced.
struct Turn {
    ran: Ran,
    out: Vec<u8>,
    close: bool,
    pending: u64,
    actions: Vec<super::types::Action>,
}

enum Ran {
    Ok,
    /// Close at once (a cross-protocol attack, the query buffer limit).
    Drop,
    Sleep(Duration),
}

/// Parses and runs every complete request buffered for `id` (pipelining), after `n` new
/// bytes arrived.
fn run_input(e: &mut super::engine::Engine, id: u64, parser: &mut RequestParser, n: usize) -> Ran {
    e.begin_turn();
    e.stats_mut().total_net_input_bytes += n as u64;
    if parser.buffered() as u64 > e.cfg().client_query_buffer_limit {
        // readQueryFromClient: the client is closed without a reply.
        let addr = e.client(id).map(|c| c.addr.clone()).unwrap_or_default();
        let head = super::log::repr(parser.head(64));
        e.warning(&format!(
            "Closing client that reached max query buffer length: addr={addr} qbuf={} (qbuf initial bytes: {head})",
            parser.buffered()
        ));
        return Ran::Drop;
    }
    let max_bulk_len = e.cfg().proto_max_bulk_len as usize;
    let needs_auth = e.cfg().requirepass.is_some();
    while !e.should_close(id) {
        let limits = RequestLimits {
            max_bulk_len,
            from_master: false,
            unauthenticated: needs_auth && e.client(id).is_some_and(|c| !c.authenticated),
        };
        match parser.next(&limits) {
            Ok(None) => break,
            Ok(Some(Parsed::Empty { newline, .. })) => {
                if newline {
                    dispatch::empty_line(e, id);
                }
            }
            Ok(Some(Parsed::Command { args, .. })) => match dispatch::execute(e, id, args) {
                Flow::Done => {}
                Flow::Close => break,
                // Closed at once, replies and all (freeClientAsync).
                Flow::Drop => return Ran::Drop,
                Flow::Sleep(d) => return Ran::Sleep(d),
            },
            Err(perr) => {
                // Redis replies, then closes the connection (setProtocolError).
                let text = perr.reply_text();
                let addr = e.client(id).map(|c| c.addr.clone()).unwrap_or_default();
                e.debug(&format!("Protocol error ({text}) from client: addr={addr}"));
                e.queue_reply(id, &Reply::err(format!("ERR {text}")));
                e.close_after_reply(id);
                *parser = RequestParser::default();
                break;
            }
        }
    }
    Ran::Ok
}

/// DEBUG SLEEP: holds the server's one event-loop thread, as in Redis.
fn block_for(sh: &Shared, d: Duration) {
    let _hold = sh.lock();
    match tokio::runtime::Handle::current().runtime_flavor() {
        tokio::runtime::RuntimeFlavor::CurrentThread => std::thread::sleep(d),
        _ => tokio::task::block_in_place(|| std::thread::sleep(d)),
    }
}

/// Our connection to a master (opened because the core asked for it).
async fn run_link(sh: Shared, conn: ConnId, host: String, port: u16) {
    let Some(notify) = sh.lock().link_notify(conn) else {
        return;
    };
    let connect = tokio::time::timeout(
        Duration::from_secs(10),
        TcpStream::connect((host.as_str(), port)),
    )
    .await;
    let stream = match connect {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return link_failed(&sh, conn, e.to_string()),
        Err(_) => return link_failed(&sh, conn, "connection timed out".into()),
    };
    let _ = stream.set_nodelay(true);
    seam::core_handle(&mut sh.lock(), Input::Connected { conn });
    after_batch(&sh);
    let (mut rd, mut wr) = stream.into_split();
    let mut chunk = vec![0u8; 64 * 1024];
    let error = 'link: loop {
        loop {
            let (out, (closed, kill, _)) = {
                let mut e = sh.lock();
                let out = seam::take_outgoing(&mut e, conn, 1 << 20);
                (out, e.link_status(conn))
            };
            if closed {
                sh.lock().forget_link(conn);
                return;
            }
            if kill {
                break 'link "killed by CLIENT KILL TYPE master".to_string();
            }
            if out.is_empty() {
                break;
            }
            if let Err(e) = wr.write_all(&out).await {
                break 'link e.to_string();
            }
        }
        let (_, _, readable) = sh.lock().link_status(conn);
        tokio::select! {
            r = rd.read(&mut chunk), if readable => match r {
                Ok(0) => break 'link "connection lost".to_string(),
                Err(e) => break 'link e.to_string(),
                Ok(n) => {
                    let payload = Payload::Bytes(chunk[..n].to_vec());
                    seam::core_handle(&mut sh.lock(), Input::Received { conn, payload });
                    after_batch(&sh);
                }
            },
            _ = notify.notified() => {}
            _ = sh.shutdown.notified() => return,
        }
    };
    {
        let mut e = sh.lock();
        e.forget_link(conn);
        seam::core_handle(&mut e, Input::Closed { conn, error });
    }
    after_batch(&sh);
}

fn link_failed(sh: &Shared, conn: ConnId, error: String) {
    {
        let mut e = sh.lock();
        e.forget_link(conn);
        seam::core_handle(&mut e, Input::ConnectFailed { conn, error });
    }
    after_batch(sh);
}
