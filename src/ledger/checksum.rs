//! The checksums migration tools record for an applied script, computed the way each tool does,
//! so an applied migration whose file has changed since can be reported.

use sha2::{Digest, Sha256, Sha384};

/// Flyway's checksum: CRC-32 over the file's lines with their line endings stripped (Java's
/// `BufferedReader.readLine()` splits on `\n`, `\r` and `\r\n`) and a UTF-8 byte order mark
/// removed from the first line, stored as a signed 32-bit integer (`ChecksumCalculator`).
pub fn flyway(contents: &str) -> i32 {
    let mut crc = crc32fast::Hasher::new();
    let text = contents.strip_prefix('\u{feff}').unwrap_or(contents);
    // Every line is fed without its terminator, so the result is the CRC of the text with all
    // line breaks removed.
    for line in text.split(['\n', '\r']) {
        crc.update(line.as_bytes());
    }
    crc.finalize() as i32
}

/// sqlx's checksum: SHA-384 of the file's contents, as read (`migration::checksum`).
pub fn sqlx(contents: &str) -> Vec<u8> {
    Sha384::digest(contents.as_bytes()).to_vec()
}

/// Prisma's checksum: SHA-256 of `migration.sql`, lower-case hex.
pub fn prisma(contents: &str) -> String {
    hex(&Sha256::digest(contents.as_bytes()))
}

/// Whether Prisma would accept `recorded` for `contents`: it also tries the script with CRLF
/// turned into LF and LF into CRLF (git rewrites line endings), and accepts the unpadded hex old
/// versions of its engine wrote (`script_matches_checksum`).
pub fn prisma_matches(contents: &str, recorded: &str) -> bool {
    let variants = [contents.to_string(), contents.replace("\r\n", "\n"), contents.replace('\n', "\r\n")];
    variants.iter().any(|variant| {
        let digest = Sha256::digest(variant.as_bytes());
        if recorded.len() == 64 {
            hex(&digest) == recorded
        } else {
            digest.iter().map(|byte| format!("{byte:x}")).collect::<String>() == recorded
        }
    })
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flyway_ignores_line_endings_and_a_leading_bom() {
        // Known value: CRC-32 of "SELECT 1;" (the bytes Flyway feeds for that one-line file).
        assert_eq!(flyway("SELECT 1;"), crc32fast::hash(b"SELECT 1;") as i32);
        let unix = "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n";
        assert_eq!(flyway(unix), flyway(&unix.replace('\n', "\r\n")));
        assert_eq!(flyway(unix), flyway(&format!("\u{feff}{unix}")));
        assert_eq!(flyway(unix), crc32fast::hash(b"CREATE TABLE t (id int);INSERT INTO t VALUES (1);") as i32);
        assert_ne!(flyway(unix), flyway("CREATE TABLE t (id bigint);\nINSERT INTO t VALUES (1);\n"));
        // The standard CRC-32 check value, as a signed integer the way flyway_schema_history stores it.
        assert_eq!(flyway("123456789"), 0xCBF4_3926_u32 as i32);
    }

    #[test]
    fn prisma_accepts_other_line_endings_and_old_unpadded_hex() {
        let script = "CREATE TABLE a (id int);\n";
        assert!(prisma_matches(script, &prisma(script)));
        assert!(prisma_matches(&script.replace('\n', "\r\n"), &prisma(script)));
        assert!(!prisma_matches("CREATE TABLE b (id int);\n", &prisma(script)));
        let unpadded: String = Sha256::digest(script.as_bytes()).iter().map(|b| format!("{b:x}")).collect();
        if unpadded.len() != 64 {
            assert!(prisma_matches(script, &unpadded));
        }
    }

    #[test]
    fn sqlx_is_sha384_of_the_whole_file() {
        assert_eq!(hex(&sqlx("")).len(), 96);
        assert_eq!(
            hex(&sqlx("abc")),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
        );
    }
}
