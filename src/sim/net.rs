//! The simulated network (in the spirit of str0m's netem): TCP connections between nodes,
//! each carried by its replica's link, with a bandwidth, a latency and faults that cut it.
//! It has the core's shape: inputs (`connect`, `data_ready`, `close`, `set_readable`,
//! `transmit`, `cut`), and timed events it releases one at a time (`poll_timeout`,
//! `handle_timeout` giving a [`NetEvent`] for the world).
//!
//! * A link direction is a FIFO server: `free_at` is when it finishes sending what it already
//!   took; bytes arrive `latency` after they are sent. A connection slower than its link (the
//!   replica reads an RDB only as fast as it stores or parses it) takes only its share of the
//!   link: its bytes leave at its own pace (`sent_until`) but hold the link for as long as the
//!   link's bandwidth needs, so a second connection on the link (Redis 8's RDB channel beside
//!   the main one, Valkey's dual channel) sends in the rest, as TCP's flow control lets it.
//!   The world pulls bytes from the core as fast as a direction can send them before the next
//!   tick, plus [`SEND_BUFFER`] queued ahead in the sender's kernel ([`Net::window`]); what
//!   the link cannot take stays in the core's output buffer, which is what Redis's limit
//!   measures.
//! * A receiver that does not read (a replica loading its RDB) does not stop the sender at
//!   once: its kernel keeps accepting bytes until [`RECV_BUFFER`] (plus the sender's queue)
//!   is full, and what arrived waits at the receiver until it reads again.
//! * A cut link resets its connections at once (both ends see it, like a killed connection)
//!   and refuses new ones until it is restored.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::agenda::{Agenda, SimClock};
use super::models::transfer_us;
use crate::core::{ConnId, Payload};

/// Bytes a sender's kernel accepts ahead of the wire: its socket send buffer, and on the
/// staged links the proxy's receive side. Redis counts a byte as sent once `write()` took it
/// (`writeToClient` drops it from the output buffer), so what sits here no longer counts
/// against `client-output-buffer-limit`. Linux autotunes the buffer (`tcp_wmem`, up to
/// 4 MB). Measured on real servers (`compare-restart-crash`): the 0.7 MB backlog a `+CONTINUE`
/// hands a replica left the master's `omem` within 5-20 ms on a 4 MB/s link, on Redis 7.0,
/// 8.2 and Valkey 9.1; the simulator takes 768 KiB.
pub const SEND_BUFFER: u64 = 768 * 1024;

/// Bytes a receiver's kernel takes while its process does not read (a replica blocked in
/// `rdbLoad`): its socket receive buffer, which Linux autotunes (`tcp_rmem`, up to MBs) while
/// the RDB streams in fast. Measured (`compare-long-load`): replicas loading for 9 s absorbed
/// every write of that time (1.07 MB, on top of the master's send buffer) with the master's
/// `omem` flat at one 16 KB block, on Redis 6.2 to Valkey 9.1; the simulator takes 1 MiB.
pub const RECV_BUFFER: u64 = 1024 * 1024;

/// One end of a connection: (node, the node's connection id).
pub type End = (usize, ConnId);

/// One TCP connection: side 0 is the node that connected (a replica), side 1 the server.
#[derive(Clone, Debug)]
struct SimConn {
    /// The link that carries it: the connecting node's.
    link: usize,
    ends: [End; 2],
    open: [bool; 2],
    /// Payload that arrived while the receiving side was not reading, by receiving side.
    held: [VecDeque<Payload>; 2],
    /// Bytes sent towards each side that its node has not read yet (on the wire or held):
    /// what fills the kernel buffers while the receiver does not read.
    unread: [u64; 2],
    /// A `Writable` is already on its way for this side.
    pump_pending: [bool; 2],
    /// When each sending side's bytes taken so far have all left at the connection's own
    /// pace, in microseconds (by sending side, as `Link::free_at_us`).
    sent_until_us: [u64; 2],
}

#[derive(Clone, Debug, Default)]
struct Link {
    /// When each direction (0 = towards the server, 1 = towards the connecting node) has sent
    /// everything it took, in microseconds.
    free_at_us: [u64; 2],
    cut_until: Option<u64>,
}

/// Timed events inside the network.
#[derive(Clone, Debug)]
enum NetEv {
    Pump {
        sc: u64,
        from: usize,
    },
    Deliver {
        sc: u64,
        to: usize,
        payload: Vec<Payload>,
    },
    Accept {
        sc: u64,
    },
    Connected {
        sc: u64,
    },
    ConnectFailed {
        end: End,
        gen: u64,
        error: String,
    },
    PeerClosed {
        sc: u64,
        to: usize,
    },
    LinkRestored {
        link: usize,
    },
}

/// What the network tells the world.
#[derive(Clone, Debug)]
pub enum NetEvent {
    /// Side `from` of `sc` may send: the world takes bytes from its node (within
    /// [`Net::window`]) and hands them to [`Net::transmit`].
    Writable {
        sc: u64,
        from: usize,
    },
    /// Bytes reached side `to` of `sc` (its node reads them).
    Delivered {
        sc: u64,
        to: usize,
        payload: Vec<Payload>,
    },
    /// A server accepted a connection from node `client`.
    Accepted {
        sc: u64,
        end: End,
        client: usize,
    },
    Connected {
        end: End,
    },
    /// A connect failed. `gen` is the tag the world gave [`Net::connect`].
    ConnectFailed {
        end: End,
        gen: u64,
        error: String,
    },
    /// The peer of `end` closed the connection.
    Closed {
        end: End,
        error: String,
    },
    /// A cut link works again.
    LinkRestored {
        link: usize,
    },
}

/// What [`Net::window`] allows a sender.
pub struct Window {
    pub sender: End,
    pub link: usize,
    /// When the link direction is free to take more, in microseconds.
    pub start_us: u64,
    /// When this connection has sent what it already took (at its own pace, never before
    /// `start_us`): what it has queued ahead is what lies between now and then.
    pub conn_free_us: u64,
    /// At most this many bytes (the receiver's kernel buffers, while it does not read).
    pub room: u64,
}

/// Bytes sent back to back arrive as one read: adjacent counted chunks become one (the core
/// hands one chunk per buffer block it takes from).
fn merge_counted(payload: Vec<Payload>) -> Vec<Payload> {
    let mut out: Vec<Payload> = Vec::with_capacity(payload.len());
    for p in payload {
        match (out.last_mut(), p) {
            (Some(Payload::Phantom(a)), Payload::Phantom(b)) => *a += b,
            (_, p) => out.push(p),
        }
    }
    out
}

#[derive(Clone, Debug)]
pub struct Net {
    conns: BTreeMap<u64, SimConn>,
    by_end: BTreeMap<End, (u64, usize)>,
    next_sc: u64,
    next_server_conn: u64,
    links: Vec<Link>,
    /// Ends whose node stopped reading (`Output::SetReadable`).
    unreadable: BTreeSet<End>,
    agenda: Agenda<NetEv>,
}

impl Net {
    /// A network of `links` links (index 0 unused: link `k` is replica `k`'s).
    pub fn new(links: usize) -> Net {
        Net {
            conns: BTreeMap::new(),
            by_end: BTreeMap::new(),
            next_sc: 1,
            next_server_conn: 1,
            links: vec![Link::default(); links],
            unreadable: BTreeSet::new(),
            agenda: Agenda::default(),
        }
    }

    // ------------------------------------------------------------------ timed events

    /// The key (time, sequence) of the next timed event.
    pub fn poll_timeout(&self) -> Option<(u64, u64)> {
        self.agenda.peek()
    }

    /// Release the next timed event (the caller checked it is due).
    pub fn handle_timeout(&mut self, now: u64) -> Option<NetEvent> {
        match self.agenda.pop()? {
            NetEv::Pump { sc, from } => {
                if let Some(c) = self.conns.get_mut(&sc) {
                    c.pump_pending[from] = false;
                }
                Some(NetEvent::Writable { sc, from })
            }
            NetEv::Deliver { sc, to, payload } => {
                let c = self.conns.get_mut(&sc)?;
                if !c.open[to] {
                    return None;
                }
                if self.unreadable.contains(&c.ends[to]) {
                    c.held[to].extend(payload);
                    return None;
                }
                let n: u64 = payload.iter().map(Payload::len).sum();
                c.unread[to] = c.unread[to].saturating_sub(n);
                Some(NetEvent::Delivered { sc, to, payload })
            }
            NetEv::Accept { sc } => {
                let c = self.conns.get(&sc)?;
                Some(NetEvent::Accepted {
                    sc,
                    end: c.ends[1],
                    client: c.ends[0].0,
                })
            }
            NetEv::Connected { sc } => {
                let c = self.conns.get(&sc)?;
                Some(NetEvent::Connected { end: c.ends[0] })
            }
            NetEv::ConnectFailed { end, gen, error } => {
                Some(NetEvent::ConnectFailed { end, gen, error })
            }
            NetEv::PeerClosed { sc, to } => {
                let c = self.conns.get_mut(&sc)?;
                if !c.open[to] {
                    return None;
                }
                c.open[to] = false;
                let end = c.ends[to];
                self.forget_if_closed(sc);
                Some(NetEvent::Closed {
                    end,
                    error: "connection lost".into(),
                })
            }
            NetEv::LinkRestored { link } => {
                let l = &mut self.links[link];
                if l.cut_until.is_none_or(|t| t > now) {
                    return None;
                }
                l.cut_until = None;
                Some(NetEvent::LinkRestored { link })
            }
        }
    }

    // ------------------------------------------------------------------ inputs

    /// Node `from.0` opens connection `from.1` over `link` to `target` (or fails with the
    /// world's reason). `gen` comes back with a failure, so the world can drop it for a node
    /// that restarted meanwhile.
    pub fn connect(
        &mut self,
        clock: &mut SimClock,
        from: End,
        target: Result<usize, &'static str>,
        link: usize,
        latency: u64,
        gen: u64,
    ) {
        let target = if self.links[link].cut_until.is_some() {
            Err("No route to host")
        } else {
            target
        };
        let now = clock.now();
        let t = match target {
            Ok(t) => t,
            Err(error) => {
                let ev = NetEv::ConnectFailed {
                    end: from,
                    gen,
                    error: error.into(),
                };
                self.agenda.schedule(clock, now + 2 * latency, ev);
                return;
            }
        };
        let sc = self.next_sc;
        self.next_sc += 1;
        let server_conn = ConnId(self.next_server_conn);
        self.next_server_conn += 1;
        self.conns.insert(
            sc,
            SimConn {
                link,
                ends: [from, (t, server_conn)],
                open: [true, true],
                held: [VecDeque::new(), VecDeque::new()],
                unread: [0, 0],
                pump_pending: [false, false],
                sent_until_us: [0, 0],
            },
        );
        self.by_end.insert(from, (sc, 0));
        self.by_end.insert((t, server_conn), (sc, 1));
        self.agenda
            .schedule(clock, now + latency, NetEv::Accept { sc });
        self.agenda
            .schedule(clock, now + 2 * latency, NetEv::Connected { sc });
    }

    /// The node at `end` has bytes to send: a `Writable` for it comes at once (one at a time).
    pub fn data_ready(&mut self, clock: &mut SimClock, end: End) {
        let Some(&(sc, side)) = self.by_end.get(&end) else {
            return;
        };
        let Some(c) = self.conns.get_mut(&sc) else {
            return;
        };
        if !std::mem::replace(&mut c.pump_pending[side], true) {
            let now = clock.now();
            self.agenda
                .schedule(clock, now, NetEv::Pump { sc, from: side });
        }
    }

    /// The node at `end` closed it; its peer learns `latency` later.
    pub fn close(&mut self, clock: &mut SimClock, end: End, latency: u64) {
        let Some(&(sc, side)) = self.by_end.get(&end) else {
            return;
        };
        if let Some(c) = self.conns.get_mut(&sc) {
            c.open[side] = false;
        }
        self.by_end.remove(&end);
        let at = clock.now() + latency;
        self.agenda
            .schedule(clock, at, NetEv::PeerClosed { sc, to: 1 - side });
        self.forget_if_closed(sc);
    }

    /// The node at `end` stops or resumes reading. Resuming delivers what waited and lets
    /// the other side send again.
    pub fn set_readable(&mut self, clock: &mut SimClock, end: End, readable: bool) {
        if !readable {
            self.unreadable.insert(end);
            return;
        }
        self.unreadable.remove(&end);
        let Some(&(sc, side)) = self.by_end.get(&end) else {
            return;
        };
        let held: Vec<Payload> = self
            .conns
            .get_mut(&sc)
            .map(|c| c.held[side].drain(..).collect())
            .unwrap_or_default();
        let now = clock.now();
        if !held.is_empty() {
            let ev = NetEv::Deliver {
                sc,
                to: side,
                payload: held,
            };
            self.agenda.schedule(clock, now, ev);
        }
        self.agenda
            .schedule(clock, now, NetEv::Pump { sc, from: 1 - side });
    }

    /// Whether side `from` of `sc` may send now, from when and how much: both ends open, the
    /// link not cut, and room in the receiver's kernel buffers if it does not read.
    pub fn window(&self, sc: u64, from: usize, now_ms: u64) -> Option<Window> {
        let c = self.conns.get(&sc)?;
        if !c.open[0] || !c.open[1] || self.links[c.link].cut_until.is_some() {
            return None;
        }
        let receiver = c.ends[1 - from];
        let room = if self.unreadable.contains(&receiver) {
            // TCP flow control: the receive window closes once the receiver's buffer is full,
            // and then the sender's own buffer fills.
            let room = (SEND_BUFFER + RECV_BUFFER).saturating_sub(c.unread[1 - from]);
            if room == 0 {
                return None;
            }
            room
        } else {
            u64::MAX
        };
        let start_us = (now_ms * 1000).max(self.links[c.link].free_at_us[from]);
        Some(Window {
            sender: c.ends[from],
            link: c.link,
            start_us,
            conn_free_us: start_us.max(c.sent_until_us[from]),
            room,
        })
    }

    /// Side `from` of `sc` sends `payload` (`n` bytes) in window `w`, at the connection's
    /// `rate` on a link of `bandwidth`: it arrives when its last byte is out, plus `latency`.
    /// The link is held for `n / bandwidth`; the bytes leave after what the connection
    /// already took, at `rate` (`rate <= bandwidth`).
    #[allow(clippy::too_many_arguments)]
    pub fn transmit(
        &mut self,
        clock: &mut SimClock,
        sc: u64,
        from: usize,
        w: &Window,
        rate: u64,
        bandwidth: u64,
        latency: u64,
        payload: Vec<Payload>,
    ) {
        let n: u64 = payload.iter().map(Payload::len).sum();
        let Some(c) = self.conns.get_mut(&sc) else {
            return;
        };
        c.unread[1 - from] += n;
        let end = w.conn_free_us + transfer_us(n, rate);
        c.sent_until_us[from] = end;
        let link = c.link;
        self.links[link].free_at_us[from] = w.start_us + transfer_us(n, bandwidth.max(rate));
        let arrive = end.div_ceil(1000) + latency;
        let ev = NetEv::Deliver {
            sc,
            to: 1 - from,
            payload: merge_counted(payload),
        };
        self.agenda.schedule(clock, arrive, ev);
    }

    /// Both ends learn at once that `sc` is gone (a reset, a crash, a cut): returns the ends
    /// that were still open, the connecting side first.
    pub fn break_conn(&mut self, sc: u64) -> Vec<End> {
        let Some(c) = self.conns.remove(&sc) else {
            return Vec::new();
        };
        for e in &c.ends {
            self.by_end.remove(e);
        }
        (0..2).filter(|s| c.open[*s]).map(|s| c.ends[s]).collect()
    }

    /// Cut `link` until `until` (a longer cut already in force stays).
    pub fn cut(&mut self, link: usize, until: u64) {
        let l = &mut self.links[link];
        l.cut_until = Some(until.max(l.cut_until.unwrap_or(0)));
    }

    /// `LinkRestored` for `link` at `at` (it restores the link if no longer cut by then).
    pub fn schedule_restore(&mut self, clock: &mut SimClock, link: usize, at: u64) {
        self.agenda
            .schedule(clock, at, NetEv::LinkRestored { link });
    }

    /// A node that goes away (or boots afresh) reads everything again.
    pub fn forget_node(&mut self, node: usize) {
        self.unreadable.retain(|e| e.0 != node);
    }

    fn forget_if_closed(&mut self, sc: u64) {
        if let Some(c) = self.conns.get(&sc) {
            if !c.open[0] && !c.open[1] {
                let ends = c.ends;
                self.conns.remove(&sc);
                for e in ends {
                    self.by_end.remove(&e);
                }
            }
        }
    }

    // ------------------------------------------------------------------ lookups

    pub fn is_open(&self, sc: u64, side: usize) -> bool {
        self.conns.get(&sc).is_some_and(|c| c.open[side])
    }

    /// Every connection, in id order.
    pub fn conn_ids(&self) -> Vec<u64> {
        self.conns.keys().copied().collect()
    }

    pub fn conns_on_link(&self, link: usize) -> Vec<u64> {
        self.conns
            .iter()
            .filter(|(_, c)| c.link == link)
            .map(|(id, _)| *id)
            .collect()
    }

    pub fn conns_of_node(&self, node: usize) -> Vec<u64> {
        self.conns
            .iter()
            .filter(|(_, c)| c.ends[0].0 == node || c.ends[1].0 == node)
            .map(|(id, _)| *id)
            .collect()
    }

    /// The (connection, side) of every end `node` holds, in connection-id order of its ends.
    pub fn ends_of_node(&self, node: usize) -> Vec<(u64, usize)> {
        self.by_end
            .iter()
            .filter(|((n, _), _)| *n == node)
            .map(|(_, v)| *v)
            .collect()
    }

    /// The link and both ends of `sc`.
    pub fn conn(&self, sc: u64) -> Option<(usize, [End; 2])> {
        self.conns.get(&sc).map(|c| (c.link, c.ends))
    }

    /// The connection `end` belongs to, with its link and both ends.
    pub fn conn_of(&self, end: End) -> Option<(u64, usize, [End; 2])> {
        let (sc, _) = self.by_end.get(&end)?;
        self.conn(*sc).map(|(link, ends)| (*sc, link, ends))
    }

    /// When `link`'s cut ends, while it is cut.
    pub fn cut_until(&self, link: usize) -> Option<u64> {
        self.links[link].cut_until
    }

    /// Bytes sent on `sc` towards side `to` that have not arrived yet.
    pub fn in_flight(&self, sc: u64, to: usize) -> u64 {
        self.agenda
            .iter()
            .filter_map(|ev| match ev {
                NetEv::Deliver {
                    sc: d,
                    to: t,
                    payload,
                } if *d == sc && *t == to => Some(payload.iter().map(Payload::len).sum::<u64>()),
                _ => None,
            })
            .sum()
    }

    /// (connecting node, server end) of every connection.
    pub fn server_ends(&self) -> impl Iterator<Item = (usize, End)> + '_ {
        self.conns.values().map(|c| (c.ends[0].0, c.ends[1]))
    }
}
