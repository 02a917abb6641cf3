       -- How many workers an index build gets (introspect::ParallelBuildSettings), in
       -- pg_settings' units: kB for maintenance_work_mem, blocks for min_parallel_table_scan_size.
       -- A select-list fragment: appended to sql/introspect_server.sql (src/introspect/mod.rs)
       -- and to the calibration's read of this session's settings (src/trace/calibrate.rs).
       (SELECT s.setting::int8 FROM pg_catalog.pg_settings s
        WHERE s.name = 'max_parallel_maintenance_workers')                       AS max_parallel_maintenance_workers,
       (SELECT s.setting::int8 FROM pg_catalog.pg_settings s
        WHERE s.name = 'max_parallel_workers')                                   AS max_parallel_workers,
       (SELECT s.setting::int8 FROM pg_catalog.pg_settings s
        WHERE s.name = 'maintenance_work_mem')                                   AS maintenance_work_mem_kb,
       (SELECT s.setting::int8 FROM pg_catalog.pg_settings s
        WHERE s.name = 'min_parallel_table_scan_size')                           AS min_parallel_table_scan_size
