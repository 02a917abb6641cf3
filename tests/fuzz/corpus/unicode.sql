-- naïve café ☕
COMMENT ON TABLE t IS 'ünïcödé ; 日本語';
SELECT 'ß' AS "列";
