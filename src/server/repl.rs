//! The seam between the server and the replication core (phase A: a standalone master with
//! no replication; replaced by the core adapter).

use super::commands::{Ctx, Out};
use super::engine::{Engine, Flow};
use super::net::Shared;
use crate::wire::Reply;

/// Starts the tasks that carry out the core's outputs.
pub fn start_core_drivers(_sh: &Shared) {}

impl Engine {
    pub fn init_core(&mut self) -> Result<(), String> {
        Ok(())
    }

    pub fn cron(&mut self) {}

    /// A snapshot for the web app's pictures.
    pub fn view_frame(&self) -> crate::view::Frame {
        crate::view::Frame {
            t_ms: self.now_ms(),
            master: crate::view::MasterView {
                name: format!("127.0.0.1:{}", self.cfg.port),
                replid: self.run_id.clone(),
                cow_bytes: if self.save.child.is_some() {
                    self.ks.cow.get()
                } else {
                    0
                },
                ..Default::default()
            },
            replicas: Vec::new(),
        }
    }

    pub fn flush_propagation(&mut self) {
        self.pending_propagation.clear();
    }

    pub fn bgsave_finished(
        &mut self,
        _core_id: Option<u64>,
        _ok: bool,
        _path: &std::path::Path,
        _cow: u64,
    ) {
    }

    pub fn write_budget(&self, _id: u64) -> usize {
        usize::MAX
    }

    pub fn empty_line(&mut self, _id: u64) {}

    pub fn execute_client(&mut self, id: u64, argv: Vec<Vec<u8>>) -> Flow {
        self.execute(id, argv)
    }

    pub fn client_closed(&mut self, id: u64) {
        self.remove_client(id);
    }

    pub fn replica_read_only(&self) -> bool {
        true
    }

    pub fn requirepass(&self) -> Option<String> {
        self.cfg.requirepass.clone()
    }

    pub fn auth_to_core(&mut self, _conn: u64, _argv: &[Vec<u8>]) {}

    pub fn core_config_matching(&self, _pat: &str) -> Vec<(String, String)> {
        vec![("save".into(), String::new())]
    }

    pub fn core_config_set(&mut self, name: &str, _value: &str) -> Result<(), String> {
        Err(format!(
            "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
        ))
    }

    pub fn config_get_one(&self, name: &str) -> Option<String> {
        self.cfg.get(name)
    }

    pub fn client_flags_and_omem(&self, id: u64) -> (String, u64) {
        let c = &self.clients[&id];
        (
            if c.is_replica { "S" } else { "N" }.to_string(),
            c.out.len() as u64,
        )
    }

    pub fn kill_master_link(&mut self) -> bool {
        false
    }

    pub fn run_replication_command(&mut self, _ctx: &mut Ctx, name: &str, _a: &[Vec<u8>]) -> Out {
        match name {
            "role" => Reply::Array(vec![
                Reply::bulk("master"),
                Reply::Int(0),
                Reply::Array(vec![]),
            ])
            .into(),
            _ => Reply::err("ERR replication is not available in this build").into(),
        }
    }

    pub fn repl_info_for_rdb(&self) -> Option<(u32, String, i64)> {
        None
    }

    pub fn core_save_param(&self) -> String {
        String::new()
    }

    pub fn repl_buffer_bytes(&self) -> u64 {
        0
    }

    pub fn replica_obuf_total(&self) -> u64 {
        0
    }

    pub fn repl_stats(&self) -> (u64, u64, u64, u64, u64) {
        (0, 0, 0, 0, 0)
    }

    pub fn info_replication(&self) -> String {
        format!(
            "role:master\r\nconnected_slaves:0\r\nmaster_replid:{}\r\nmaster_repl_offset:0\r\n",
            self.run_id
        )
    }
}
