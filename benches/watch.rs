//! `lockscope inspect` performance (never a timed test; figures measured in one run on this
//! machine, on a throwaway server started with max_connections = 1100):
//!
//! * cost of one `inspect --once` sample with 500 sessions queued behind one ACCESS EXCLUSIVE,
//!   for both ways of building the wait graph (one pg_locks snapshot, `GraphMethod::Snapshot`,
//!   the default; `pg_blocking_pids()` per waiter, `GraphMethod::BlockingPids`), beside the peer
//!   figures of the same run: one plain pg_locks ⋈ pg_stat_activity read, and pg_blocking_pids()
//!   for all waiters in one statement;
//! * the worst gap between consecutive `--watch --interval 1s` samples during a lock storm of 500
//!   sessions (the bound tests/watch_load.rs used to assert; a figure, never a test);
//! * cost of one `--watch` sample with 1,000 idle sessions connected (issue 16: ≤ 10 ms), beside
//!   the same pg_locks ⋈ pg_stat_activity read, interleaved;
//! * cost of one `--watch` sample with 200 and 1,000 connected sessions (a migration blocked by
//!   an idle transaction, readers queued behind it, half the sessions running queries that hold
//!   locks, the rest idle);
//! * pgbench throughput with `inspect --watch --interval 1s` running beside it versus without,
//!   interleaved rounds, as a ratio;
//! * introspection of a database with 10,000 tables and 30,000 indexes (issue 3: "well under a
//!   second").
//!
//! Run with `cargo bench --bench watch` (or `scripts/bench.sh`). Scale down for a quick look with
//! `BENCH_SESSIONS=50,200 BENCH_TABLES=1000 BENCH_PGBENCH_SECONDS=5 BENCH_ROUNDS=1`; pick parts with
//! `BENCH_PARTS=queue,idle,gaps,sessions,pgbench,catalog` (default: all), `BENCH_QUEUE=500` and
//! `BENCH_IDLE=1000`. Rows go to `$BENCH_OUTPUT` in the format of `support/row.rs`.

#[path = "support/row.rs"]
mod row;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lockscope::db::ephemeral::{find_bindir, EphemeralServer};
use lockscope::db::{self, Target};
use lockscope::introspect::{
    self, configure_read_only_session, Definitions, IntrospectOptions, Measure, SessionLimits,
};
use lockscope::watch::{self, GraphMethod, InspectOptions, Sample, Sampler, SamplerOptions};
use row::{median_p95, Row, Table};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};

/// The peer of a sample: what any monitoring query reads at least, once.
const PEER_SQL: &str = "SELECT * FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid";

/// Set in the child process that plays the watcher during the pgbench rounds.
const WATCHER_URL: &str = "LOCKSCOPE_BENCH_WATCHER_URL";
const WATCHER_RECORD: &str = "LOCKSCOPE_BENCH_WATCHER_RECORD";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    if let Ok(url) = std::env::var(WATCHER_URL) {
        let record = std::env::var(WATCHER_RECORD).map(PathBuf::from).ok();
        std::process::exit(runtime.block_on(watcher_child(url, record)));
    }

    let server = EphemeralServer::start_with_settings(&[
        ("max_connections", "1100"),
        ("shared_buffers", "256MB"),
        ("max_locks_per_transaction", "128"),
    ])
    .expect("start the benchmark server");
    let mut table = Table::default();
    runtime.block_on(async {
        let sessions: Vec<usize> = std::env::var("BENCH_SESSIONS")
            .unwrap_or_else(|_| "200,1000".into())
            .split(',')
            .filter_map(|n| n.trim().parse().ok())
            .collect();
        let parts = std::env::var("BENCH_PARTS").unwrap_or_else(|_| "queue,idle,gaps,sessions,pgbench,catalog".into());
        let part = |name: &str| parts.split(',').any(|p| p.trim() == name);
        if part("queue") {
            queue_cost(&server, env_usize("BENCH_QUEUE", 500), &mut table).await;
        }
        if part("idle") {
            idle_cost(&server, env_usize("BENCH_IDLE", 1000), &mut table).await;
        }
        if part("gaps") {
            storm_gaps(&server, &mut table).await;
        }
        if part("sessions") {
            for count in sessions {
                sample_cost(&server, count, &mut table).await;
            }
        }
        if part("pgbench") {
            pgbench_ratio(&server, &mut table).await;
        }
        if part("catalog") {
            introspection_speed(&server, &mut table).await;
        }
    });
    table.finish();
}

/// The watcher as a user runs it: `lockscope inspect --watch --interval 1s --record FILE`, plain
/// text to a pipe nobody reads. Stops on SIGINT.
async fn watcher_child(url: String, record: Option<PathBuf>) -> i32 {
    let args = InspectOptions {
        database_url: Some(url),
        watch: true,
        interval: Duration::from_secs(1),
        record,
        no_tui: true,
        ..InspectOptions::default()
    };
    match watch::run(&args).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("watcher: {err}");
            2
        }
    }
}

async fn admin(server: &EphemeralServer, dbname: &str) -> PgConnection {
    db::connect(&server.target(dbname), "lockscope-bench").await.expect("connect")
}

async fn execute(conn: &mut PgConnection, sql: &str) {
    sqlx::raw_sql(AssertSqlSafe(sql.to_string())).execute(conn).await.unwrap_or_else(|err| panic!("{sql}: {err}"));
}

async fn pid_of(conn: &mut PgConnection) -> i32 {
    sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(conn).await.expect("pid")
}

async fn wait_until_waiting(monitor: &mut PgConnection, pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted)")
            .bind(pid)
            .fetch_one(&mut *monitor)
            .await
            .expect("poll");
        if waiting {
            return;
        }
        assert!(Instant::now() < deadline, "pid {pid} never waited");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn spawn_statement(mut conn: PgConnection, sql: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Ends with an error when the benchmark terminates the session; that is the point.
        let _ = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await;
    })
}

async fn connect_many(target: &Target, count: usize) -> Vec<PgConnection> {
    let mut connections = Vec::with_capacity(count);
    while connections.len() < count {
        let batch = (count - connections.len()).min(50);
        let opened = connect_batch(target, batch).await;
        connections.extend(opened);
    }
    connections
}

async fn connect_batch(target: &Target, count: usize) -> Vec<PgConnection> {
    let mut tasks = Vec::new();
    for _ in 0..count {
        let target = target.clone();
        tasks.push(tokio::spawn(async move { db::connect(&target, "bench-load").await.expect("open a load session") }));
    }
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.expect("connect task"));
    }
    out
}

fn percentile(mut values: Vec<f64>, at: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let index = ((values.len() - 1) as f64 * at).round() as usize;
    values[index]
}

/// Median wall time of `rounds` runs of `sql` on `conn` (ms).
async fn query_ms(conn: &mut PgConnection, sql: &str, rounds: usize) -> f64 {
    let mut times = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut *conn)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    percentile(times, 0.5)
}

/// Sessions connected to the monitor's database now.
async fn connected_here(monitor: &mut PgConnection) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        .fetch_one(monitor)
        .await
        .expect("count")
}

/// What [`interleaved_samples`] measured.
struct Interleaved {
    /// Wall time of each `Sampler::sample()`, ms.
    ours: Vec<f64>,
    /// Wall time of each peer read taken just before it, ms.
    peer: Vec<f64>,
    skipped: usize,
    last: Sample,
    rounds: usize,
}

/// `BENCH_SAMPLES` (default 40) samples of a default watcher on `target` after 3 warm-ups, each
/// right after one peer read on `monitor`, so a neighbour's load hits both alike.
async fn interleaved_samples(target: &Target, monitor: &mut PgConnection) -> Interleaved {
    let mut sampler = Sampler::connect(target.clone(), SamplerOptions::default()).await.expect("watcher");
    for _ in 0..3 {
        sampler.sample().await.expect("warm-up sample");
    }
    let rounds = env_usize("BENCH_SAMPLES", 40);
    let (mut ours, mut peer, mut skipped, mut last) = (Vec::new(), Vec::new(), 0, None);
    for _ in 0..rounds {
        peer.push(query_ms(monitor, PEER_SQL, 1).await);
        let started = Instant::now();
        let sample = sampler.sample().await.expect("sample");
        ours.push(started.elapsed().as_secs_f64() * 1000.0);
        skipped += usize::from(sample.skipped.is_some());
        last = Some(sample);
    }
    sampler.close().await;
    Interleaved { ours, peer, skipped, last: last.expect("at least one sample"), rounds }
}

/// The graph of one sample, without times: to check both methods saw the same.
fn blocking_picture(sample: &Sample) -> String {
    let blocked: Vec<(i32, &Vec<i32>, usize)> =
        sample.sessions.iter().map(|s| (s.pid, &s.blocked_by, s.queued_behind)).collect();
    let queues: Vec<(&str, Vec<i32>, Vec<i32>)> = sample
        .queues
        .iter()
        .map(|q| {
            (q.relation.as_str(), q.holders.iter().map(|e| e.pid).collect(), q.waiters.iter().map(|e| e.pid).collect())
        })
        .collect();
    format!("{:?} {blocked:?} {queues:?}", sample.lock_tree)
}

/// One `inspect --once` sample with `waiters` sessions queued behind one ACCESS EXCLUSIVE, for
/// both graph methods, and the peers: a plain pg_locks ⋈ pg_stat_activity read, and
/// pg_blocking_pids() for every waiter in one statement.
async fn queue_cost(server: &EphemeralServer, waiters: usize, table: &mut Table) {
    let dbname = "queue_storm";
    let mut admin_conn = admin(server, "postgres").await;
    execute(&mut admin_conn, &format!("CREATE DATABASE {dbname}")).await;
    let target = server.target(dbname);
    let mut monitor = admin(server, dbname).await;
    execute(&mut monitor, "CREATE TABLE hot (id integer PRIMARY KEY, v integer)").await;
    let mut holder = admin(server, dbname).await;
    execute(&mut holder, "BEGIN; LOCK TABLE hot IN ACCESS EXCLUSIVE MODE").await;
    let sessions = connect_many(&target, waiters).await;
    let tasks: Vec<_> =
        sessions.into_iter().map(|conn| spawn_statement(conn, "SELECT count(*) FROM hot".into())).collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let queued: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_locks WHERE NOT granted AND waitstart IS NOT NULL")
                .fetch_one(&mut monitor)
                .await
                .expect("count waiters");
        if queued as usize >= waiters {
            break;
        }
        assert!(Instant::now() < deadline, "only {queued} of {waiters} sessions queued");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rounds = env_usize("BENCH_SAMPLES", 25);
    // As the file's header says to run it by hand: $1 the query length, $2 no session whose every
    // lock is listed (inspect's own case).
    let whole_sql = include_str!("../sql/watch_sample.sql").replace("$1", "1000").replace("$2", "'{}'");
    let whole_sql = query_ms(&mut monitor, &whole_sql, rounds).await;
    let limits = SessionLimits { statement_timeout: Duration::from_secs(30), lock_timeout: Duration::from_secs(5) };
    let methods = [GraphMethod::BlockingPids, GraphMethod::Snapshot];
    let mut samplers = Vec::new();
    for method in methods {
        let options = SamplerOptions { limits, graph: method, ..SamplerOptions::default() };
        let mut sampler = Sampler::connect(target.clone(), options).await.expect("sampler");
        for _ in 0..3 {
            sampler.sample().await.expect("warm-up sample");
        }
        samplers.push(sampler);
    }
    // Interleaved, so a neighbour's load on this shared machine hits the peers and both methods
    // alike: each round reads the peers once and takes one sample with each method.
    let mut wall = [Vec::new(), Vec::new()];
    let mut last: [Option<Sample>; 2] = [None, None];
    let (mut peer_read, mut peer_blocking) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        peer_read.push(query_ms(&mut monitor, PEER_SQL, 1).await);
        peer_blocking.push(
            query_ms(
                &mut monitor,
                "SELECT w.pid, pg_blocking_pids(w.pid) FROM (SELECT DISTINCT pid FROM pg_locks WHERE NOT granted) w",
                1,
            )
            .await,
        );
        for (index, sampler) in samplers.iter_mut().enumerate() {
            let started = Instant::now();
            let sample = sampler.sample().await.expect("sample");
            wall[index].push(started.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(sample.skipped, None, "a sample was skipped");
            last[index] = Some(sample);
        }
    }
    let mut pictures = Vec::new();
    let mut sweeps = Vec::new();
    for (index, method) in methods.into_iter().enumerate() {
        let sample = last[index].take().expect("samples");
        sweeps.push(match method {
            GraphMethod::Snapshot => 1 + sample.undecided_waits.len(),
            GraphMethod::BlockingPids => 1 + sample.sessions.iter().filter(|s| s.waiting_for.is_some()).count(),
        });
        pictures.push(blocking_picture(&sample));
    }
    for sampler in samplers {
        sampler.close().await;
    }
    let same = pictures[0] == pictures[1];
    let (peer_median, peer_p95) = median_p95(&peer_read);
    let (blocking_median, blocking_p95) = median_p95(&peer_blocking);
    let (ours_median, ours_p95) = median_p95(&wall[1]);
    let (ref_median, ref_p95) = median_p95(&wall[0]);
    table.row(Row {
        work: format!("one `inspect --once` sample, {waiters} sessions queued behind one ACCESS EXCLUSIVE"),
        peer: "one `pg_locks` ⋈ `pg_stat_activity` read".into(),
        peer_figure: format!("median {peer_median:.1} ms, p95 {peer_p95:.1} ms"),
        lockscope: format!(
            "median {ours_median:.1} ms, p95 {ours_p95:.1} ms; {} lock-manager sweep(s) per sample",
            sweeps[1]
        ),
        ratio: Some(ours_median / peer_median),
        target: "≤ 15 ms (median and p95), one sweep per sample".into(),
    });
    table.row(Row {
        work: format!("the same sample with `pg_blocking_pids()` per waiter (the reference method), {waiters} waiters"),
        peer: "`pg_blocking_pids()` for all waiters, one statement".into(),
        peer_figure: format!("median {blocking_median:.1} ms, p95 {blocking_p95:.1} ms"),
        lockscope: format!("median {ref_median:.1} ms, p95 {ref_p95:.1} ms; {} sweeps per sample", sweeps[0]),
        ratio: Some(ref_median / blocking_median),
        target: "— (reference for tests/watch_graph.rs)".into(),
    });
    table.note(&format!(
        "{waiters} queued waiters: wall time of `Sampler::sample()` over a Unix socket, {rounds} rounds after 3 \
         warm-ups, each round reading the peers once and sampling once with each method (interleaved); both \
         methods saw the same tree, blocked_by and queues: {same}; sql/watch_sample.sql alone (the whole \
         sample's one statement, psql-style simple query): median {whole_sql:.1} ms"
    ));
    drop(holder);
    execute(
        &mut admin_conn,
        &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{dbname}' AND pid <> pg_backend_pid()"),
    )
    .await;
    for task in tasks {
        let _ = task.await;
    }
    let _ = monitor.close().await;
    execute(&mut admin_conn, &format!("DROP DATABASE {dbname} WITH (FORCE)")).await;
}

/// One `--watch` sample with `count` idle sessions connected to the database (no locks, nothing
/// running: what every sample of a quiet production database with a big pool pays), interleaved
/// with the peer read.
async fn idle_cost(server: &EphemeralServer, count: usize, table: &mut Table) {
    let dbname = format!("idle_{count}");
    let mut admin_conn = admin(server, "postgres").await;
    execute(&mut admin_conn, &format!("CREATE DATABASE {dbname}")).await;
    let target = server.target(&dbname);
    let mut monitor = admin(server, &dbname).await;
    execute(&mut monitor, "CREATE TABLE orders (id integer PRIMARY KEY, total integer)").await;
    let sessions = connect_many(&target, count).await;
    let connected = connected_here(&mut monitor).await;
    let Interleaved { ours, peer, skipped, last, rounds } = interleaved_samples(&target, &mut monitor).await;
    let listed = last.sessions.len();
    let (peer_median, peer_p95) = median_p95(&peer);
    let (median, p95) = median_p95(&ours);
    table.row(Row {
        work: format!("one `--watch` sample, {connected} idle sessions connected"),
        peer: "one `pg_locks` ⋈ `pg_stat_activity` read".into(),
        peer_figure: format!("median {peer_median:.1} ms, p95 {peer_p95:.1} ms"),
        lockscope: format!("median {median:.1} ms, p95 {p95:.1} ms ({skipped} skipped)"),
        ratio: Some(median / peer_median),
        target: "≤ 10 ms".into(),
    });
    table.note(&format!(
        "{connected} idle sessions: wall time of `Sampler::sample()`, {rounds} rounds after 3 warm-ups, \
         interleaved with the peer read; {listed} sessions listed in the sample (idle ones are not)"
    ));
    drop(sessions);
    let _ = monitor.close().await;
    execute(&mut admin_conn, &format!("DROP DATABASE {dbname} WITH (FORCE)")).await;
}

/// The lock storm of tests/watch_load.rs (500 sessions: ALTER TABLEs waiting for ACCESS
/// EXCLUSIVE, readers queueing behind them) with a watcher at `--interval 1s`: the worst gap
/// between consecutive samples, as a multiple of the interval.
async fn storm_gaps(server: &EphemeralServer, table: &mut Table) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let sessions = env_usize("BENCH_STORM_SESSIONS", 500);
    let seconds = env_usize("BENCH_STORM_SECONDS", 15);
    let dbname = "lock_storm";
    let mut admin_conn = admin(server, "postgres").await;
    execute(&mut admin_conn, &format!("CREATE DATABASE {dbname}")).await;
    let target = server.target(dbname);
    let mut setup = admin(server, dbname).await;
    execute(&mut setup, "CREATE TABLE hot (id integer PRIMARY KEY, v integer); INSERT INTO hot SELECT g, g FROM generate_series(1, 1000) g").await;
    let _ = setup.close().await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for (n, mut conn) in connect_many(&target, sessions).await.into_iter().enumerate() {
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let _ = sqlx::raw_sql("SET lock_timeout = '300ms'").execute(&mut conn).await;
            while !stop.load(Ordering::Relaxed) {
                let sql = if n % 50 == 0 {
                    "BEGIN; ALTER TABLE hot ADD COLUMN IF NOT EXISTS tmp integer; SELECT pg_sleep(0.05); ROLLBACK;"
                } else {
                    "BEGIN; SELECT count(*) FROM hot; SELECT pg_sleep(0.2); COMMIT;"
                };
                if sqlx::raw_sql(sql).execute(&mut conn).await.is_err() {
                    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await;
                    tokio::time::sleep(Duration::from_millis(100 + (n as u64 % 7) * 20)).await;
                }
            }
            let _ = conn.close().await;
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let record_dir = tempfile::tempdir().expect("tempdir");
    let record = record_dir.path().join("storm.jsonl");
    let mut watcher = Command::new(std::env::current_exe().expect("own path"))
        .env(WATCHER_URL, server.url(dbname))
        .env(WATCHER_RECORD, &record)
        .stdout(Stdio::null())
        .spawn()
        .expect("start the watcher");
    tokio::time::sleep(Duration::from_secs(seconds as u64)).await;
    // SAFETY: signalling our own child.
    unsafe { libc::kill(watcher.id() as libc::pid_t, libc::SIGINT) };
    let status = watcher.wait().expect("watcher exit");
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        let _ = worker.await;
    }
    assert!(status.success(), "the watcher failed: {status}");
    let samples: Vec<Sample> = std::fs::read_to_string(&record)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a record line is a sample"))
        .collect();
    let times: Vec<std::time::SystemTime> =
        samples.iter().map(|s| humantime::parse_rfc3339_weak(&s.sampled_at).expect("sampled_at")).collect();
    let gaps: Vec<f64> =
        times.windows(2).map(|w| w[1].duration_since(w[0]).unwrap_or_default().as_secs_f64()).collect();
    let worst = gaps.iter().copied().fold(0.0, f64::max);
    let skipped = samples.iter().filter(|s| s.skipped.is_some()).count();
    let sample_ms: Vec<f64> = samples.iter().filter(|s| s.skipped.is_none()).map(|s| s.sample_ms).collect();
    let median_ms = if sample_ms.is_empty() { f64::NAN } else { percentile(sample_ms.clone(), 0.5) };
    let worst_ms = sample_ms.iter().copied().fold(0.0, f64::max);
    table.row(Row {
        work: format!("`inspect --watch --interval 1s` in a lock storm of {sessions} sessions, {seconds} s"),
        peer: "the interval (1 s)".into(),
        peer_figure: "1.00 s".into(),
        lockscope: format!(
            "worst gap between samples {worst:.2} s; {} samples, {skipped} skipped; sample_ms median {median_ms:.1}, worst {worst_ms:.1}",
            samples.len()
        ),
        ratio: Some(worst / 1.0),
        target: "a figure, never a test (was 3× in tests/watch_load.rs)".into(),
    });
    execute(&mut admin_conn, &format!("DROP DATABASE {dbname} WITH (FORCE)")).await;
}

/// One sample's wall time with `count` sessions connected.
async fn sample_cost(server: &EphemeralServer, count: usize, table: &mut Table) {
    let dbname = format!("load_{count}");
    let mut admin_conn = admin(server, "postgres").await;
    execute(&mut admin_conn, &format!("CREATE DATABASE {dbname}")).await;
    let target = server.target(&dbname);
    let mut monitor = admin(server, &dbname).await;
    execute(
        &mut monitor,
        "CREATE TABLE orders (id integer PRIMARY KEY, total integer);
         INSERT INTO orders SELECT g, g FROM generate_series(1, 1000) g;
         DO $$ BEGIN FOR i IN 1..100 LOOP
             EXECUTE format('CREATE TABLE t%s (id integer PRIMARY KEY, v integer)', i);
             EXECUTE format('INSERT INTO t%s SELECT g, g FROM generate_series(1, 100) g', i);
         END LOOP; END $$;",
    )
    .await;

    let started = Instant::now();
    let mut sessions = connect_many(&target, count).await;
    let connect_time = started.elapsed();
    let waiters = (count / 20).max(1);
    let active = count / 2;
    // 1 idle transaction holding orders, 1 ALTER waiting, `waiters` SELECTs queued behind it,
    // `active` long queries each holding a lock on one of t1..t100, the rest idle.
    let mut holder = sessions.pop().expect("holder");
    execute(&mut holder, "BEGIN; SELECT count(*) FROM orders").await;
    let mut alter = sessions.pop().expect("alter");
    let alter_pid = pid_of(&mut alter).await;
    let mut tasks = vec![spawn_statement(alter, "ALTER TABLE orders ADD COLUMN note text".into())];
    wait_until_waiting(&mut monitor, alter_pid).await;
    for _ in 0..waiters {
        let mut conn = sessions.pop().expect("waiter");
        let pid = pid_of(&mut conn).await;
        tasks.push(spawn_statement(conn, "SELECT count(*) FROM orders".into()));
        wait_until_waiting(&mut monitor, pid).await;
    }
    for i in 0..active.min(sessions.len()) {
        let conn = sessions.pop().expect("active");
        tasks.push(spawn_statement(conn, format!("SELECT pg_sleep(3600) FROM t{} LIMIT 1", 1 + i % 100)));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let connected = connected_here(&mut monitor).await;
    let Interleaved { ours: wall_ms, peer, skipped, last: sample, rounds } =
        interleaved_samples(&target, &mut monitor).await;
    let json_bytes = serde_json::to_string(&sample).expect("json").len();
    let tree_size = watch::tree::flatten(&sample.lock_tree).len();
    let (median, p95) = median_p95(&wall_ms);
    let (peer_median, peer_p95) = median_p95(&peer);
    table.row(Row {
        work: format!(
            "one `--watch` sample, {connected} sessions connected, half of them running, {} waiting",
            waiters + 1
        ),
        peer: "one `pg_locks` ⋈ `pg_stat_activity` read".into(),
        peer_figure: format!("median {peer_median:.1} ms, p95 {peer_p95:.1} ms"),
        lockscope: format!("median {median:.1} ms, p95 {p95:.1} ms ({skipped} skipped)"),
        ratio: Some(median / peer_median),
        target: "—".into(),
    });
    table.note(&format!(
        "{connected} sessions (1 idle transaction holding a table, 1 ALTER waiting, {} readers behind it, \
         half running queries that hold locks): {rounds} samples after 3 warm-ups, interleaved with the peer \
         read; {} sessions in the sample, {tree_size} in the lock tree, {:.0} kB of JSON",
        waiters,
        sample.sessions.len(),
        json_bytes as f64 / 1024.0,
    ));
    println!("{count} sessions: connected in {connect_time:?}");

    // Tear the load down before the next measurement.
    execute(
        &mut admin_conn,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{dbname}' AND pid <> pg_backend_pid()"
        ),
    )
    .await;
    drop(holder);
    drop(sessions);
    for task in tasks {
        let _ = task.await;
    }
    let _ = monitor.close().await;
    execute(&mut admin_conn, &format!("DROP DATABASE {dbname} WITH (FORCE)")).await;
}

fn pgbench(server: &EphemeralServer, args: &[&str]) -> String {
    let bindir = find_bindir().expect("PostgreSQL binaries");
    let output = Command::new(bindir.join("pgbench"))
        .arg("-h")
        .arg(server.dir())
        .arg("-p")
        .arg(server.port().to_string())
        .args(["-U", "postgres"])
        .args(args)
        .env_remove("PGDATABASE")
        .stdin(Stdio::null())
        .output()
        .expect("run pgbench");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "pgbench {args:?} failed:\n{text}");
    text
}

fn tps(output: &str) -> f64 {
    output
        .lines()
        .find(|line| line.starts_with("tps = "))
        .and_then(|line| line["tps = ".len()..].split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no tps in pgbench output:\n{output}"))
}

/// pgbench throughput with and without a watcher process, interleaved.
async fn pgbench_ratio(server: &EphemeralServer, table: &mut Table) {
    let mut admin_conn = admin(server, "postgres").await;
    execute(&mut admin_conn, "CREATE DATABASE pgbench").await;
    pgbench(server, &["-i", "-q", "-s", "10", "pgbench"]);
    let seconds = env_usize("BENCH_PGBENCH_SECONDS", 15).to_string();
    let clients = env_usize("BENCH_PGBENCH_CLIENTS", 16).to_string();
    let rounds = env_usize("BENCH_ROUNDS", 3);
    let run_args = ["-n", "-c", clients.as_str(), "-j", "2", "-T", seconds.as_str(), "pgbench"];
    let record_dir = tempfile::tempdir().expect("tempdir");
    let mut without = Vec::new();
    let mut with = Vec::new();
    let mut sample_ms = Vec::new();
    for round in 0..rounds {
        without.push(tps(&pgbench(server, &run_args)));
        let record = record_dir.path().join(format!("round{round}.jsonl"));
        let mut watcher = Command::new(std::env::current_exe().expect("own path"))
            .env(WATCHER_URL, server.url("pgbench"))
            .env(WATCHER_RECORD, &record)
            .stdout(Stdio::null())
            .spawn()
            .expect("start the watcher");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        with.push(tps(&pgbench(server, &run_args)));
        // SAFETY: signalling our own child.
        unsafe { libc::kill(watcher.id() as libc::pid_t, libc::SIGINT) };
        let status = watcher.wait().expect("watcher exit");
        assert!(status.success(), "the watcher failed: {status}");
        sample_ms.extend(recorded_sample_ms(&record));
        println!("round {round}: {:.0} tps without, {:.0} tps with the watcher", without[round], with[round]);
    }
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let (plain, watched) = (median(without.clone()), median(with.clone()));
    table.row(Row {
        work: format!("pgbench throughput with `inspect --watch --interval 1s` beside it ({clients} clients, {seconds} s × {rounds})"),
        peer: "pgbench without the watcher, interleaved rounds".into(),
        peer_figure: format!("{plain:.0} tps"),
        lockscope: format!("{watched:.0} tps; the watcher's samples took median {:.1} ms", percentile(sample_ms, 0.5)),
        ratio: Some(watched / plain),
        target: "≈ 1.00× (no visible cost)".into(),
    });
    execute(&mut admin_conn, "DROP DATABASE pgbench WITH (FORCE)").await;
}

fn recorded_sample_ms(path: &Path) -> Vec<f64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<Sample>(line).ok())
        .filter(|sample| sample.skipped.is_none())
        .map(|sample| sample.sample_ms)
        .collect()
}

/// Introspection of a database with many tables and indexes.
async fn introspection_speed(server: &EphemeralServer, table: &mut Table) {
    let tables = env_usize("BENCH_TABLES", 10_000);
    let mut admin_conn = admin(server, "postgres").await;
    execute(&mut admin_conn, "CREATE DATABASE catalog").await;
    let mut conn = admin(server, "catalog").await;
    let started = Instant::now();
    for first in (1..=tables).step_by(1000) {
        let last = (first + 999).min(tables);
        execute(
            &mut conn,
            &format!(
                "DO $$ BEGIN FOR i IN {first}..{last} LOOP
                     EXECUTE format('CREATE TABLE t%s (id integer PRIMARY KEY, a integer, b text, c integer)', i);
                     EXECUTE format('CREATE INDEX t%s_a ON t%s (a)', i, i);
                     EXECUTE format('CREATE INDEX t%s_ca ON t%s (c, a) INCLUDE (b)', i, i);
                 END LOOP; END $$;"
            ),
        )
        .await;
    }
    let _ = conn.close().await;
    let target = server.target("catalog");
    println!("created {tables} tables in {:?}", started.elapsed());

    let limits = SessionLimits { statement_timeout: Duration::from_secs(30), lock_timeout: Duration::from_millis(100) };
    let measure = |options: IntrospectOptions, rounds: usize, fresh: bool| {
        let target = target.clone();
        async move {
            let mut times = Vec::new();
            let mut counts = (0, 0, 0);
            let mut warm: Option<PgConnection> = None;
            for _ in 0..rounds {
                let mut conn = match warm.take() {
                    Some(conn) if !fresh => conn,
                    _ => {
                        let mut conn = db::connect(&target, "lockscope-bench").await.expect("connect");
                        configure_read_only_session(&mut conn, limits).await.expect("configure");
                        if !fresh {
                            introspect::introspect(&mut conn, &options).await.expect("warm up");
                        }
                        conn
                    }
                };
                let started = Instant::now();
                let found = introspect::introspect(&mut conn, &options).await.expect("introspect");
                times.push(started.elapsed().as_secs_f64() * 1000.0);
                counts = (found.tables.len(), found.indexes.len(), found.constraints.len());
                if fresh {
                    let _ = conn.close().await;
                } else {
                    warm = Some(conn);
                }
            }
            (percentile(times, 0.5), counts)
        }
    };
    let default = IntrospectOptions::default();
    let (cold, (t, i, c)) = measure(default.clone(), 5, true).await;
    let (warm, _) = measure(default.clone(), 5, false).await;
    let (all_sizes, _) =
        measure(IntrospectOptions { measure: Measure::All, definitions: Definitions::Flagged }, 3, true).await;
    let (all_definitions, _) =
        measure(IntrospectOptions { measure: Measure::Largest(20), definitions: Definitions::All }, 3, true).await;
    table.row(Row {
        work: format!("introspection, {t} tables / {i} indexes / {c} constraints, new connection (cold)"),
        peer: "issue 3's limit".into(),
        peer_figure: "1 s".into(),
        lockscope: format!("median {cold:.0} ms (warm connection {warm:.0} ms)"),
        ratio: Some(cold / 1000.0),
        target: "well under a second".into(),
    });
    table.note(&format!(
        "introspection: `introspect::introspect` with the defaults `inspect` uses, median of 5; everything exact \
         (`Measure::All`, all {} relations opened / `Definitions::All`): {all_sizes:.0} ms / {all_definitions:.0} ms",
        t + i
    ));
    let started = Instant::now();
    let mut sampler = Sampler::connect(target.clone(), SamplerOptions::default()).await.expect("connect");
    let overview = watch::overview::gather(&mut sampler, "bench", Duration::from_secs(30)).await.expect("overview");
    let overview_ms = started.elapsed().as_secs_f64() * 1000.0;
    table.row(Row {
        work: format!("`lockscope inspect` overview, {t} tables (connect + introspection + one sample)"),
        peer: "issue 3's limit".into(),
        peer_figure: "1 s".into(),
        lockscope: format!("{overview_ms:.0} ms, one run ({} unused indexes listed)", overview.unused_indexes.len()),
        ratio: Some(overview_ms / 1000.0),
        target: "well under a second".into(),
    });
    sampler.close().await;
    execute(&mut admin_conn, "DROP DATABASE catalog WITH (FORCE)").await;
}
