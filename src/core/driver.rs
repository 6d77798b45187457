//! What a driver must do with each [`Output`], as one trait, and the pieces every driver
//! shares. The simulator and the tests' in-memory world implement [`Driver`] and feed the
//! core's outputs to it with [`Output::dispatch`] (or [`drain`]); so does the server.

use super::status::BgsaveTarget;
use super::{ConnId, Instance, LogEntry, MarkEvent, Output, Payload};
use crate::wire::{parse_request, Parsed, ProtocolError, RequestLimits};

/// One method per kind of [`Output`]. Every method is required: a new kind of output makes
/// every driver say what it does with it.
pub trait Driver {
    /// The core holds bytes for `conn`: call [`Instance::take_outgoing`] when the connection
    /// can accept bytes. What is not taken stays in the core and is what the output buffer
    /// limit measures (a pull model: a slow link means a growing buffer).
    fn data_ready(&mut self, conn: ConnId);
    /// Close `conn` now. The core has already forgotten it; a later `Input::Closed` for it
    /// is ignored.
    fn close(&mut self, conn: ConnId);
    /// Open a connection with this (core-allocated) id to `host:port`, then report
    /// `Input::Connected` or `Input::ConnectFailed`.
    fn connect(&mut self, conn: ConnId, host: String, port: u16);
    /// Stop or resume reading from `conn` (a replica loading an RDB does not read its master
    /// link, so the master's buffer for it grows).
    fn set_readable(&mut self, conn: ConnId, readable: bool);
    /// Run a fork child `id` (pid `child_pid`) holding the dataset as of stream `offset`.
    /// Disk target: report `Input::BgsaveDone` with the file (real bytes or
    /// `Payload::Phantom(len)`). Socket target: feed the RDB body as `Input::BgsaveData`
    /// chunks (the core adds the `$EOF:<mark>` framing), then `BgsaveDone` (its `rdb` is
    /// ignored); throttle on [`Instance::bgsave_backlog_bytes`] as Redis pauses the pipe for
    /// its slowest replica.
    fn start_bgsave(&mut self, id: u64, target: BgsaveTarget, child_pid: u32, offset: i64);
    /// Kill child `id`, and do not report `BgsaveDone` for it (the core has handled its
    /// death already).
    fn kill_bgsave(&mut self, id: u64);
    /// Replica: a new RDB transfer begins: bytes kept from an earlier, aborted one are void.
    /// With `from_socket` the load runs while the bytes arrive. Drivers that model the load
    /// themselves (the simulator) need nothing here.
    fn rdb_begin(&mut self, from_socket: bool) {
        let _ = from_socket;
    }
    /// Replica: RDB body bytes from the master (framing and EOF mark removed): collect them.
    /// With diskless load (`Instance::loads_from_socket`) the load runs as they arrive: report
    /// `Input::RdbLoading` once the RDB's header is read.
    fn rdb_data(&mut self, payload: Payload);
    /// Replica: the RDB of `size` bytes is complete: flush the dataset, load it (report
    /// `Input::RdbLoading` with its aux fields when the loader has read its header), then
    /// report `Input::LoadDone`.
    fn load_rdb(&mut self, size: u64, eof_marked: bool);
    /// Replica: execute a command of the master's stream (real bytes only: counted stream
    /// bytes need nothing). Every stream command comes through, `SELECT`, `PING` and
    /// `MULTI`/`EXEC` included (follow `SELECT`, ignore `PING`); the core itself answers
    /// `REPLCONF GETACK` and keeps the offsets and the relay to sub-replicas.
    fn apply(&mut self, argv: Vec<Vec<u8>>);
    /// A log line, already in Redis's format (`entry.line`).
    fn log(&mut self, entry: LogEntry);
    /// A timeline event with a cause in words (see [`MarkEvent`] for whose it is).
    fn mark(&mut self, mark: MarkEvent);
}

impl Output {
    /// Hand this output to the driver method for its kind.
    pub fn dispatch(self, d: &mut impl Driver) {
        match self {
            Output::DataReady { conn } => d.data_ready(conn),
            Output::Close { conn } => d.close(conn),
            Output::Connect { conn, host, port } => d.connect(conn, host, port),
            Output::SetReadable { conn, readable } => d.set_readable(conn, readable),
            Output::StartBgsave {
                id,
                target,
                child_pid,
                offset,
            } => d.start_bgsave(id, target, child_pid, offset),
            Output::KillBgsave { id } => d.kill_bgsave(id),
            Output::RdbBegin { from_socket } => d.rdb_begin(from_socket),
            Output::RdbData { payload } => d.rdb_data(payload),
            Output::LoadRdb { size, eof_marked } => d.load_rdb(size, eof_marked),
            Output::Apply { argv } => d.apply(argv),
            Output::Log(entry) => d.log(entry),
            Output::Mark(mark) => d.mark(mark),
        }
    }
}

/// Carry out every output of `inst` (the one rule of the driving loop). A driver that holds
/// the instance inside itself pops with [`Instance::poll_output`] and dispatches instead.
pub fn drain(inst: &mut Instance, d: &mut impl Driver) {
    while let Some(o) = inst.poll_output() {
        o.dispatch(d);
    }
}

/// The bytes a peer sent to one of our server connections, cut into the commands the core
/// takes as `Input::Command` (Redis's request parser, `processInputBuffer`).
#[derive(Clone, Debug, Default)]
pub struct RequestSplitter {
    buf: Vec<u8>,
}

impl RequestSplitter {
    /// Bytes arrived (counted bytes carry no command and are dropped).
    pub fn push(&mut self, p: &Payload) {
        if let Payload::Bytes(b) = p {
            self.buf.extend_from_slice(b);
        }
    }

    /// The next whole command. A bare newline (a loading replica's keepalive) is an empty
    /// argv, as [`super::Input::Command`] expects; `*0` and `*-1` are skipped as Redis does.
    pub fn next_command(&mut self) -> Result<Option<Vec<Vec<u8>>>, ProtocolError> {
        let limits = RequestLimits::default();
        loop {
            let Some(parsed) = parse_request(&self.buf, &limits)? else {
                return Ok(None);
            };
            self.buf.drain(..parsed.consumed());
            match parsed {
                Parsed::Command { args, .. } => return Ok(Some(args)),
                Parsed::Empty { newline: true, .. } => return Ok(Some(Vec::new())),
                Parsed::Empty { newline: false, .. } => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_pipelined_commands_and_keepalives() {
        let mut s = RequestSplitter::default();
        s.push(&Payload::bytes(
            b"*1\r\n$4\r\nPING\r\n\n*0\r\n*2\r\n$4\r\nECHO".to_vec(),
        ));
        assert_eq!(s.next_command().unwrap(), Some(vec![b"PING".to_vec()]));
        assert_eq!(s.next_command().unwrap(), Some(Vec::new()), "a keepalive");
        assert_eq!(
            s.next_command().unwrap(),
            None,
            "*0 skipped, ECHO incomplete"
        );
        s.push(&Payload::bytes(b"\r\n$1\r\nx\r\n".to_vec()));
        assert_eq!(
            s.next_command().unwrap(),
            Some(vec![b"ECHO".to_vec(), b"x".to_vec()])
        );
        s.push(&Payload::bytes(b"*1\r\n#4\r\n".to_vec()));
        assert!(s.next_command().is_err());
    }
}
