//! Simplified Chinese for every preset's title, expected outcome and explanation. Config names,
//! Redis replies and log wording stay in English, as users see them in their own logs.

/// (title, expected outcome, what to watch) in Chinese, for a preset name.
pub fn preset_zh(name: &str) -> Option<(String, String, String)> {
    let disk = "全量同步经由磁盘进行（repl-diskless-sync no）。";
    let diskless = "全量同步采用无盘方式（repl-diskless-sync yes，延迟 5 秒）。";
    let psync = |title: &str, expect: &str, watch: &str| {
        let (mode, label) = if name.ends_with("-diskless") {
            (diskless, "无盘")
        } else {
            (disk, "磁盘")
        };
        Some((
            format!("{title}（{label}）"),
            expect.to_string(),
            format!("{watch}{mode}"),
        ))
    };
    let t = |a: &str, b: &str, c: &str| Some((a.to_string(), b.to_string(), c.to_string()));
    match name {
        "disk-sync-loop" => t(
            "无限全量同步循环：繁忙主节点上的磁盘同步",
            "负载下链路断开 5 秒后，从节点再也无法恢复在线：每次全量同步都在传输途中超过 256mb 的硬限制，每次 PSYNC 都因积压缓冲区（1mb）不足被拒绝，全量同步永远重复。",
            "第一次同步（写入较少）成功；80 秒时，在约 6 MB/s 的写入下一次短暂断链让从节点回到全量同步。观察主节点上该从节点的输出缓冲区：它从 fork 开始增长，贯穿写入磁盘的 BGSAVE、文件传输和加载。以约 6 MB/s 的写入速度，它需要约 56 秒的余量（26 秒把 2 GB 写入 80 MB/s 的磁盘，26 秒把它传到同样速度的从节点磁盘，5 秒加载），即约 340 MB，但硬限制只有 256mb，所以从节点在 fork 后约 42 秒、传输途中被断开。随后它的 PSYNC 请求一个早已被 1mb 积压缓冲区淘汰的偏移量，循环重新开始：它仍保留着缓存的主节点信息，所以每次重试都用同一个过期的偏移量发起 PSYNC。",
        ),
        "diskless-fix" => t(
            "同样的负载改用无盘同步：从节点上线并保持在线",
            "开启 repl-diskless-sync yes 后，传输与 fork 重叠并跳过主节点磁盘，缓冲区峰值低于 256mb，从节点顺利完成断链后的全量同步并保持在线。",
            "数据集、写入和链路都与 disk-sync-loop 相同，只改变 repl-diskless-sync。子进程直接把 RDB 写入套接字，主节点不再等待 20 秒的磁盘写入和 10 秒的磁盘读取：从 fork 到加载结束的窗口从约 56 秒缩短到约 31 秒（此时由从节点自己 80 MB/s 的磁盘决定速度），缓冲区峰值约 190 MB，而不是越过 256mb。观察缓冲区只在 64mb 软限制之上停留约 20 秒，远低于 60 秒。",
        ),
        "buffer-fix" => t(
            "同样的负载，调大从节点输出缓冲区限制",
            "设置 client-output-buffer-limit replica 1gb 512mb 60 后，BGSAVE、传输和加载期间积累的约 340 MB 都能放下，从节点完成断链后的磁盘全量同步并保持在线。",
            "负载与 disk-sync-loop 相同，仍经由磁盘同步，但从节点限制被调到高于 fork 到加载结束之间积累的数据量（写入速率 × (BGSAVE + 传输 + 加载) ≈ 6 MB/s × 约 56 秒）。观察缓冲区越过原来的 256mb 线、达到峰值，然后在从节点重新读取后以「链路速度减去写入速率」的速度回落。代价是主节点内存：这个缓冲区是实实在在的内存，还要加上 fork 的写时复制。",
        ),
        "dual-channel-fix" => t(
            "同样的负载使用独立的 RDB 通道（Valkey 8.1 双通道复制）",
            "使用双通道复制时，RDB 在单独的连接上传输，从节点自己缓存写入流，因此主节点为它保留的缓冲区很小，从节点顺利完成断链后的全量同步。",
            "负载与 disk-sync-loop 相同。RDB 通过第二条连接直接由 fork 子进程发送，主连接则从快照点开始传输写入流；从节点把这些写入保存在本地缓冲区，直到加载结束。观察主节点一侧的缓冲区几乎为零，而从节点的本地缓冲区在增长。链路是共享的，所以 RDB 只能使用写入流剩下的带宽。",
        ),
        "rdb-channel-fix" => t(
            "同样的负载运行在 Redis 8.2 上，它默认开启 RDB 通道",
            "在 Redis 8.2 上，无盘全量同步会为 RDB 打开第二条连接（repl-rdb-channel，默认开启），由从节点自己缓存写入流，上限为 replica-full-sync-buffer-limit（0 = 从节点自己的 256mb 硬限制），因此主节点为它保留的缓冲区很小，从节点顺利完成断链后的全量同步。",
            "负载与 disk-sync-loop 相同，运行在 Redis 8.2 上并使用无盘同步（8.2 的默认值）。主节点用 +RDBCHANNELSYNC 回复被拒绝的 PSYNC；从节点打开一条 RDB 连接并发送 PSYNC ? -1，从 fork 开始主节点就在主连接上发送写入流（状态 send_bulk_and_stream），写入流进入从节点的全量同步缓冲区。观察主节点一侧的缓冲区几乎为零，而从节点的本地缓冲区在增长；RDB 一发送完，主节点就把从节点标记为在线。把版本切换到 redis-7.0，可以看到同样的负载会撞上 256mb 的限制。",
        ),
        "backlog-too-small" => t(
            "稳定写入期间链路断开 10 秒，repl-backlog-size 1mb",
            "在约 1.2 MB/s 的写入下断链 10 秒会错过约 12 MB，超过 1mb 的积压缓冲区，所以从节点需要第二次全量同步。",
            "观察链路断开期间积压缓冲区的窗口滑过从节点的偏移量：在约 1.2 MB/s 的写入下，1mb 的积压缓冲区只能保存不到一秒的历史。与 backlog-sized 对比，唯一的区别是积压缓冲区的大小。",
        ),
        "backlog-sized" => t(
            "稳定写入期间链路断开 10 秒，repl-backlog-size 16mb",
            "repl-backlog-size 设为 16mb（写入速率 × 断线时长 ≈ 1.2 MB/s × 10 秒，再为重连留出余量）后，同样断链 10 秒，从节点以 +CONTINUE 恢复。",
            "积压缓冲区按「写入速率 × 需要容忍的断线时长」来配置：约 1.2 MB/s × 10 秒 ≈ 12 MB，为重连的那一秒向上取整到 16mb。观察链路断开期间从节点的偏移量始终留在积压缓冲区窗口内，主节点回复 +CONTINUE 并只发送错过的字节。replscope advise 会计算这个数值。",
        ),
        "shared-buffer-growth" => t(
            "Redis 7.0 共享复制缓冲区：慢从节点让积压缓冲区超出配置大小",
            "1 MB/s 链路上的从节点跟不上约 1.2 MB/s 的写入流，占住共享缓冲区的旧数据块，积压缓冲区远远超出 1mb，而快的从节点保持同步。",
            "在 Redis 7.0 中，积压缓冲区和各从节点的输出缓冲区是同一串数据块；只有当没有从节点还指向第一个数据块时，积压缓冲区才能释放它。观察 repl_backlog_histlen：两个从节点都跟得上时它略高于 1mb；一旦 replica-2 落后，它尚未发送的数据块无法释放，积压缓冲区也就一直保留它们（也因此能接受更早偏移量的部分重同步）。",
        ),
        "soft-limit-timer" => t(
            "软限制：缓冲区徘徊在软限制与硬限制之间",
            "写入突增让从节点的缓冲区超过 32mb 软限制的时间长于 15 秒，因此主节点断开了这个从节点，尽管缓冲区从未达到 128mb 的硬限制。",
            "client-output-buffer-limit replica 128mb 32mb 15：硬限制立即生效，软限制只有在每次检查都看到缓冲区高于它、且持续超过 15 秒时才生效。4 MB/s 的链路可以轻松消化约 1 MB/s 的正常写入，但 6k/s 的突增比它快约 2.4 MB/s。观察缓冲区越过 32mb 时软限制计时开始，15 秒后触发，远低于 128mb。",
        ),
        "replica-restart" => t(
            "从节点重启：崩溃后上次同步的 RDB 太旧，正常关闭可以续传",
            "崩溃后从节点重新加载上次全量同步留在磁盘上的 RDB，请求从那次同步开始的位置继续：20 秒的写入之后，这已超出 1mb 积压缓冲区，所以需要全量同步。正常重启后它从关闭时保存的 RDB 启动，带着复制 ID 和当前偏移量，以部分重同步恢复。",
            "20 秒时从节点崩溃。它的磁盘上还留着 0 秒那次全量同步的 RDB（repl-diskless-load disabled 经由文件加载），启动时把其中的 repl-id 和 repl-offset 作为缓存的主节点信息：它请求 PSYNC <id> 1，但主节点此后已写入约 1.5 MB，积压缓冲区只有 1mb，所以 PSYNC 被拒绝，随后全量同步。60 秒时它正常关闭：保存的 RDB 带有当前偏移量，启动加载后它请求 PSYNC <id> <offset+1>。它离开约 5 秒（保存、重启、加载），写入约 75 KB/s，远在积压缓冲区之内，所以主节点回复 +CONTINUE。",
        ),
        "failover-psync" => t(
            "主节点宕机，replica-1 被提升，replica-2 以部分重同步跟随它",
            "主节点被杀死、replica-1 被提升后，replica-2 通过部分重同步从新主节点恢复（它的偏移量通过 replid2 对旧 ID 仍然有效），所以每个从节点只做了第一次全量同步。",
            "提升（REPLICAOF NO ONE）保留了旧的历史：新主节点的 replid2 就是旧的 replid，有效范围到它停下的偏移量为止。replica-2 请求 PSYNC <旧 replid> <offset+1>，新主节点通过 replid2 接受并回复 +CONTINUE <新 replid>。观察新主节点 INFO 中的 master_replid2 和 second_repl_offset。",
        ),
        "failover-lagging-promoted" => t(
            "被提升的从节点落后于另一个：另一个需要全量同步",
            "在慢链路上落后的 replica-1 被提升后，只能提供到它停下为止的旧历史，所以走得更远的 replica-2 被拒绝（'Requested offset for second ID ...'），从新主节点全量同步。",
            "replid2 只在 second_repl_offset（被提升的从节点到达的偏移量）之前有效。replica-2 已经应用了更多旧主节点的数据流，所以它请求了一个新主节点从未拥有的偏移量：Redis 拒绝并开始全量同步（redis/redis#12113）。观察主节点被杀死前两个从节点的偏移量。",
        ),
        _ if name.starts_with("psync-no-reconnection") => psync(
            "Redis psync 测试：不重连",
            "没有故障时，从节点做一次全量同步然后持续接收数据流：从不需要部分重同步，结束时保持同步。",
            "这是 Redis replication-psync 测试的基准情形。观察第一次全量同步（fork、传输、加载）之后稳定的数据流：积压缓冲区填满到配置大小后保持不变，从节点的缓冲区每个节拍都被清空。",
        ),
        _ if name.starts_with("psync-partial-ok") => psync(
            "Redis psync 测试：重连后部分重同步成功",
            "在约 150 KB/s 的写入下断链 2 秒，错过的数据远少于 1mb 积压缓冲区，所以从节点以 +CONTINUE 恢复，没有第二次全量同步。",
            "链路在 20 秒时断开 2 秒。从节点保留缓存的主节点信息，请求 PSYNC <replid> <offset+1>；这个偏移量仍在积压缓冲区窗口内，所以主节点回复 +CONTINUE，只发送错过的字节。",
        ),
        _ if name.starts_with("psync-no-backlog") => psync(
            "Redis psync 测试：重连时积压缓冲区已经移走",
            "在约 1.3 MB/s 的写入下断链 10 秒，错过的数据超过 1mb 积压缓冲区所能保存的，所以部分重同步因积压缓冲区不足被拒绝，随后进行第二次全量同步。",
            "与 partial-ok 相同的断链，但写入多十倍、断线更长。从节点回来时，它请求的偏移量已经被 1mb 积压缓冲区淘汰：观察主节点记录 'Unable to partial resync ... for lack of backlog' 并开始新的 BGSAVE。",
        ),
        _ if name.starts_with("psync-ok-after-delay") => psync(
            "Redis psync 测试：延迟后重连，积压缓冲区仍能覆盖",
            "在约 60 KB/s 的写入下断链 10 秒，错过约 0.6 MB，仍在 1mb 积压缓冲区之内，所以从节点在延迟后以 +CONTINUE 恢复。",
            "只要积压缓冲区能覆盖，长时间断线也无妨：关键是断线期间写入的字节数（速率 × 时间），而不是时间本身。观察主节点上的积压缓冲区窗口：链路恢复时从节点的偏移量仍在窗口之内。",
        ),
        _ if name.starts_with("psync-backlog-expired") => psync(
            "Redis psync 测试：积压缓冲区被 repl-backlog-ttl 释放",
            "设置 repl-backlog-ttl 5 时，主节点在 20 秒的断链期间释放了积压缓冲区（并更换复制 ID），所以回来的从节点的 PSYNC 被拒绝，再次全量同步。",
            "没有从节点连接时，主节点开始计时；超过 repl-backlog-ttl 后它释放积压缓冲区并选择新的复制 ID。从节点缓存的主节点信息完好，但它指向的是主节点已经不再拥有的历史：'Replication ID mismatch'。",
        ),
        _ => None,
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn every_preset_has_chinese_text() {
        for p in crate::sim::presets() {
            let (title, expect, watch) =
                preset_zh(&p.name).unwrap_or_else(|| panic!("no Chinese for preset {}", p.name));
            assert!(
                !title.is_empty() && !expect.is_empty() && !watch.is_empty(),
                "{}",
                p.name
            );
        }
    }

    #[test]
    fn disk_and_diskless_variants_differ() {
        let (a, _, x) = preset_zh("psync-partial-ok-disk").unwrap();
        let (b, _, y) = preset_zh("psync-partial-ok-diskless").unwrap();
        assert_ne!(a, b);
        assert_ne!(x, y);
    }
}

/// Simplified Chinese help for a simulator parameter (`sim::params()` names); config names
/// stay as Redis spells them.
pub fn param_help_zh(name: &str) -> Option<&'static str> {
    Some(match name {
        "replicas" => "主节点下从节点的数量。",
        "duration" => "没有指定 --until 时一次运行的时长。",
        "tick" => "批量数据流的粒度：每个 tick 产生一批写入、每条链路发送一批数据。",
        "dataset.size" => "数据集大小，也是主节点生成的 RDB 的大小。",
        "dataset.keys" => "键的数量（从节点加载时写入日志）。",
        "workload.rate" => "计划阶段之外每秒的写入（SET 命令）数。",
        "workload.value-size" => "每个 SET 的值大小。",
        "workload.key-size" => "每个 SET 的键长度。",
        "workload.jitter" => "每个 tick 写入速率的随机波动（由随机种子决定），0 表示完全平稳。",
        "link.bandwidth" => "每条主从链路每个方向的带宽。",
        "link.latency" => "每条链路的单向延迟。",
        "disk.write-speed" => "磁盘写入速度（主节点的 RDB 文件、从节点的临时文件）。",
        "disk.read-speed" => "磁盘读取速度（主节点读取 RDB 文件以便发送）。",
        "fork.time-per-gb" => "每 GB 数据集 fork() 让主节点暂停的时间。",
        "fork.rdb-speed" => "fork 子进程序列化数据集的速度（受 CPU 限制）。",
        "fork.page-size" => "内存页大小：BGSAVE 期间一次写入最多复制一页（写时复制）。",
        "replica.load-speed" => "从节点加载收到的 RDB 的速度。",
        "replica.restart-time" => "重启的从节点再次连接前需要的时间。",
        "repl-backlog-size" => "Redis repl-backlog-size：为部分重同步保留的历史。",
        "repl-backlog-ttl" => "Redis repl-backlog-ttl：没有从节点这么久之后释放积压缓冲区（0 = 永不）。",
        "client-output-buffer-limit.hard" => "client-output-buffer-limit replica 的硬限制（0 = 无）。",
        "client-output-buffer-limit.soft" => "client-output-buffer-limit replica 的软限制（0 = 无）。",
        "client-output-buffer-limit.soft-seconds" => "从节点缓冲区允许超过软限制的秒数。",
        "repl-diskless-sync" => "Redis repl-diskless-sync：把 RDB 直接写入从节点套接字，而不是写文件。",
        "repl-diskless-sync-delay" => "Redis repl-diskless-sync-delay：fork 前等待更多从节点的时间。",
        "repl-diskless-sync-max-replicas" => "Redis repl-diskless-sync-max-replicas：等待的从节点达到这个数就提前 fork（0 = 不限）。",
        "repl-diskless-load" => "Redis repl-diskless-load（从节点）：disabled 表示先把 RDB 写入磁盘。",
        "repl-timeout" => "Redis repl-timeout。",
        "repl-ping-replica-period" => "Redis repl-ping-replica-period：主节点在同步流中发送 PING 的间隔。",
        "dual-channel-replication-enabled" => "Valkey 8 双通道复制：RDB 走单独的连接，由从节点缓存同步流。",
        "save" => "Redis save 保存点（\"\" = 无）：没有保存点时，没有从节点等待的磁盘 BGSAVE 会被终止。",
        "version" => "每个节点运行的 Redis 或 Valkey 版本：决定它的缓冲区、RDB 的第二条连接、默认配置和日志措辞。",
        "replica-full-sync-buffer-limit" => "Redis 8.2 replica-full-sync-buffer-limit：RDB 通道同步期间从节点最多缓存多少同步流，超过后停止读取（0 = 从节点自己的 replica 硬限制）。",
        "replication-model" => "缓冲区模型：7 = Redis 7.0 共享复制缓冲区，6 = 6.x 环形积压缓冲区加每个从节点私有的缓冲区。",
        _ => return None,
    })
}

#[cfg(test)]
mod param_tests {
    #[test]
    fn every_parameter_has_chinese_help() {
        for p in crate::sim::params() {
            assert!(
                super::param_help_zh(p.name).is_some(),
                "no Chinese help for {}",
                p.name
            );
        }
    }
}
