//! `inspect --watch` shows a CREATE INDEX CONCURRENTLY's progress: phase, percent of the current
//! phase, and an ETA from the counter's rate. The build is slowed down (an expression index on a
//! function that sleeps 1 ms per row) so it is caught mid-scan on any machine.

mod common;
mod watch_scenario;

use std::time::Duration;

use lockscope::introspect::{self, IntrospectOptions, Measure};
use lockscope::watch::{Sampler, SamplerOptions};
use watch_scenario::{backend_pid, spawn_statement};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_index_concurrently_shows_progress_with_percent_and_eta() {
    let db = common::fresh_database().await;
    let mut setup = db.connect().await;
    common::execute(
        &mut setup,
        "CREATE TABLE big (id integer PRIMARY KEY, payload text NOT NULL);
         INSERT INTO big SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 3000) g;
         CREATE FUNCTION slow_key(i integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE
             AS $$ BEGIN PERFORM pg_sleep(0.001); RETURN i; END $$;",
    )
    .await;
    common::execute(&mut setup, "VACUUM ANALYZE big").await;
    let blocks: i64 = sqlx::query_scalar("SELECT relpages::int8 FROM pg_class WHERE relname = 'big'")
        .fetch_one(&mut setup)
        .await
        .expect("relpages");
    assert!(blocks > 50, "the table spans many blocks ({blocks})");

    let mut builder = db.connect().await;
    let builder_pid = backend_pid(&mut builder).await;
    let build = spawn_statement(builder, "CREATE INDEX CONCURRENTLY big_slow_idx ON big (slow_key(id))");

    let mut sampler = Sampler::connect(db.target.clone(), SamplerOptions::default()).await.expect("connect");
    let mut scanning = Vec::new();
    let mut saw_invalid_index = false;
    while !build.is_finished() {
        let sample = sampler.sample().await.expect("sample");
        assert_eq!(sample.skipped, None);
        if let Some(progress) = sample.progress.iter().find(|p| p.pid == builder_pid) {
            assert_eq!(progress.command, "CREATE INDEX CONCURRENTLY");
            assert_eq!(progress.relation.as_deref(), Some("public.big"));
            let session = sample.session(builder_pid).expect("builder session");
            assert!(session.migration && session.ddl, "the CIC is highlighted as the migration");
            if progress.phase.as_deref() == Some("building index: scanning table") {
                assert_eq!(progress.index.as_deref(), Some("public.big_slow_idx"));
                assert_eq!(progress.unit.as_deref(), Some("blocks"));
                assert_eq!(progress.total, Some(blocks));
                scanning.push(progress.clone());
            }
        }
        if !saw_invalid_index && !scanning.is_empty() {
            // While it builds, the new index exists but is not valid yet.
            let conn = sampler.connection().expect("connected");
            let catalog = introspect::introspect(
                conn,
                &IntrospectOptions { measure: Measure::Nothing, ..IntrospectOptions::default() },
            )
            .await
            .expect("introspect");
            saw_invalid_index = catalog
                .invalid_indexes()
                .iter()
                .any(|index| index.name == "big_slow_idx" && index.definition.is_some());
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    build.await.expect("build task").expect("CREATE INDEX CONCURRENTLY succeeds");

    assert!(scanning.len() >= 3, "caught mid-scan several times: {scanning:?}");
    assert!(saw_invalid_index, "the index under construction shows as invalid");
    // The first report of a heap scan can carry a stale blocks_done (seen on PostgreSQL 15:
    // 112/112, then 3/112); the tracker treats a counter going back as a restart. From there on
    // the percent only grows.
    let mut previous = -1.0;
    for progress in &scanning[1..] {
        let percent = progress.percent.expect("percent");
        assert!((0.0..=100.0).contains(&percent));
        assert!(percent >= previous, "percent never goes back within a phase: {scanning:?}");
        previous = percent;
    }
    let with_eta: Vec<_> = scanning.iter().filter(|p| p.eta_s.is_some()).collect();
    assert!(!with_eta.is_empty(), "an ETA once the counter moved: {scanning:?}");
    for progress in with_eta {
        let rate = progress.rate_per_s.expect("rate with an ETA");
        assert!(rate > 0.0);
        let left = (progress.total.unwrap() - progress.done.unwrap()) as f64;
        assert!((progress.eta_s.unwrap() - left / rate).abs() < 1e-6);
    }
    let after = sampler.sample().await.expect("sample");
    assert!(after.progress.iter().all(|p| p.pid != builder_pid), "finished builds disappear");
    sampler.close().await;
}
