//! A deterministic corpus of realistic migrations for benchmarks: tables with indexes and foreign
//! keys, functions and triggers, data backfills, column additions, type changes, constraints
//! added NOT VALID then validated, renames and drops — in golang-migrate layout.

use std::fmt::Write;
use std::path::Path;

/// A tiny deterministic generator (64-bit LCG), so the corpus is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Writes `count` migrations (up and down files) into `dir`; returns the number of statements.
pub fn write(dir: &Path, count: usize, rows_per_table: usize) -> usize {
    let mut rng = Lcg(0x10C5C0DE);
    let mut tables: Vec<String> = Vec::new();
    let mut statements = 0;
    for version in 1..=count {
        let mut up = String::new();
        let mut down = String::new();
        let choice = if tables.len() < 3 { 0 } else { rng.below(10) };
        let name;
        match choice {
            0 | 1 => {
                let table = format!("t{version:04}");
                name = format!("create_{table}");
                let parent = (!tables.is_empty()).then(|| tables[rng.below(tables.len() as u64) as usize].clone());
                let _ = writeln!(up, "SET lock_timeout = '2s';");
                let _ = writeln!(
                    up,
                    "CREATE TABLE IF NOT EXISTS {table} (\n    id bigserial PRIMARY KEY,\n    parent_id bigint{},\n    \
                     code integer NOT NULL,\n    label varchar(40),\n    payload text,\n    created_at timestamptz NOT NULL DEFAULT now()\n);",
                    parent.as_ref().map(|p| format!(" REFERENCES {p} (id)")).unwrap_or_default()
                );
                let _ = writeln!(up, "CREATE INDEX IF NOT EXISTS {table}_code_idx ON {table} (code);");
                if parent.is_some() {
                    let _ = writeln!(up, "CREATE INDEX IF NOT EXISTS {table}_parent_idx ON {table} (parent_id);");
                    statements += 1;
                }
                let _ = writeln!(
                    up,
                    "INSERT INTO {table} (code, label, payload)\nSELECT g % 97, 'label ' || g, repeat('x', 20) FROM generate_series(1, {rows_per_table}) AS g;"
                );
                let _ = writeln!(down, "DROP TABLE IF EXISTS {table};");
                statements += 4;
                tables.push(table);
            }
            2 => {
                let table = &tables[rng.below(tables.len() as u64) as usize];
                name = format!("touch_trigger_{table}");
                let _ = writeln!(
                    up,
                    "CREATE OR REPLACE FUNCTION {table}_touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    NEW.created_at := now();\n    RETURN NEW;\nEND\n$$;"
                );
                let _ = writeln!(
                    up,
                    "DROP TRIGGER IF EXISTS {table}_touch ON {table};\nCREATE TRIGGER {table}_touch BEFORE UPDATE ON {table}\n    FOR EACH ROW EXECUTE FUNCTION {table}_touch();"
                );
                let _ = writeln!(
                    down,
                    "DROP TRIGGER IF EXISTS {table}_touch ON {table};\nDROP FUNCTION IF EXISTS {table}_touch();"
                );
                statements += 3;
            }
            3 => {
                let table = &tables[rng.below(tables.len() as u64) as usize];
                name = format!("add_status_{version}_{table}");
                let column = format!("status_{version}");
                let _ = writeln!(up, "SET lock_timeout = '2s';");
                let _ = writeln!(up, "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} text;");
                let _ = writeln!(up, "ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT 'new';");
                let _ = writeln!(down, "ALTER TABLE {table} DROP COLUMN IF EXISTS {column};");
                statements += 3;
            }
            4 => {
                let table = &tables[rng.below(tables.len() as u64) as usize];
                name = format!("backfill_{version}_{table}");
                let _ = writeln!(up, "UPDATE {table} SET label = upper(label) WHERE code = {};", rng.below(97));
                let _ = writeln!(up, "UPDATE {table} SET payload = payload || '!' WHERE id % 10 = {};", rng.below(10));
                let _ = writeln!(down, "SELECT 1;");
                statements += 2;
            }
            5 => {
                let table = &tables[rng.below(tables.len() as u64) as usize];
                name = format!("check_{version}_{table}");
                let constraint = format!("{table}_code_check_{version}");
                let _ = writeln!(up, "ALTER TABLE {table} ADD CONSTRAINT {constraint} CHECK (code >= 0) NOT VALID;");
                let _ = writeln!(up, "ALTER TABLE {table} VALIDATE CONSTRAINT {constraint};");
                let _ = writeln!(down, "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {constraint};");
                statements += 2;
            }
            6 => {
                let table = &tables[rng.below(tables.len() as u64) as usize];
                name = format!("widen_{version}_{table}");
                let _ = writeln!(up, "ALTER TABLE {table} ALTER COLUMN label TYPE varchar({});", 40 + version);
                let _ = writeln!(down, "SELECT 1;");
                statements += 1;
            }
            7 => {
                let table = &tables[rng.below(tables.len() as u64) as usize];
                name = format!("index_{version}_{table}");
                let index = format!("{table}_created_{version}_idx");
                let _ = writeln!(up, "CREATE INDEX IF NOT EXISTS {index} ON {table} (created_at);");
                let _ = writeln!(up, "COMMENT ON INDEX {index} IS 'benchmark index {version}';");
                let _ = writeln!(down, "DROP INDEX IF EXISTS {index};");
                statements += 2;
            }
            8 => {
                let table = &tables[rng.below(tables.len() as u64) as usize];
                name = format!("view_{version}_{table}");
                let _ = writeln!(
                    up,
                    "CREATE OR REPLACE VIEW {table}_summary_{version} AS\n    SELECT code, count(*) AS n FROM {table} GROUP BY code;"
                );
                let _ = writeln!(down, "DROP VIEW IF EXISTS {table}_summary_{version};");
                statements += 1;
            }
            _ => {
                let table = &tables[rng.below(tables.len() as u64) as usize];
                name = format!("do_block_{version}_{table}");
                let _ = writeln!(
                    up,
                    "DO $$\nBEGIN\n    IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = '{table}_note_{version}') THEN\n        \
                     EXECUTE 'CREATE TABLE {table}_note_{version} (id int PRIMARY KEY, note text)';\n    END IF;\nEND\n$$;"
                );
                let _ = writeln!(down, "DROP TABLE IF EXISTS {table}_note_{version};");
                statements += 1;
            }
        }
        std::fs::write(dir.join(format!("{version:04}_{name}.up.sql")), up).expect("write corpus");
        std::fs::write(dir.join(format!("{version:04}_{name}.down.sql")), down).expect("write corpus");
    }
    statements
}
