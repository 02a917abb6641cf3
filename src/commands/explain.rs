//! `lockscope explain TOPIC`: a rule (`LS107`, or its name) or a lock mode, explained.

use crate::analyze::catalogue;
use crate::error::{Error, Result};

/// The explanation of `topic`, or a usage error saying what a topic can be.
pub fn explain(topic: &str) -> Result<String> {
    catalogue::explain_topic(topic).ok_or_else(|| {
        Error::Usage(format!(
            "{topic:?} is neither a rule (see `lockscope rules`) nor a lock mode (e.g. AccessExclusiveLock)"
        ))
    })
}
