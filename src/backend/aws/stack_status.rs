//! What a CloudFormation stack status means for a waiting operation. The
//! original tool mistook UPDATE_COMPLETE_CLEANUP_IN_PROGRESS for a failure,
//! returned early from UPDATE_ROLLBACK_IN_PROGRESS and waited forever on
//! DELETE_FAILED; this table is the fix, and is tested on its own.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Keep waiting.
    InProgress,
    /// The operation did what was asked.
    Succeeded,
    /// The operation failed (a rollback that completed is a failure too).
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

pub fn phase(operation: Operation, status: &str) -> Phase {
    use Operation::*;
    use Phase::*;
    if status.ends_with("_IN_PROGRESS") {
        return InProgress;
    }
    match (operation, status) {
        (Create, "CREATE_COMPLETE") => Succeeded,
        (Update, "UPDATE_COMPLETE") => Succeeded,
        (Delete, "DELETE_COMPLETE") => Succeeded,
        _ => Failed,
    }
}

/// Statuses in which a stack can take a new update.
pub fn is_stable(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use Operation::*;
    use Phase::*;

    #[test]
    fn cleanup_and_rollback_in_progress_are_waited_through() {
        for status in [
            "UPDATE_IN_PROGRESS",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "UPDATE_ROLLBACK_IN_PROGRESS",
            "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        ] {
            assert_eq!(phase(Update, status), InProgress, "{status}");
        }
        assert_eq!(phase(Create, "ROLLBACK_IN_PROGRESS"), InProgress);
    }

    #[test]
    fn completed_rollbacks_are_failures() {
        assert_eq!(phase(Update, "UPDATE_ROLLBACK_COMPLETE"), Failed);
        assert_eq!(phase(Update, "UPDATE_ROLLBACK_FAILED"), Failed);
        assert_eq!(phase(Create, "ROLLBACK_COMPLETE"), Failed);
        assert_eq!(phase(Create, "CREATE_FAILED"), Failed);
    }

    #[test]
    fn delete_failed_ends_the_wait() {
        assert_eq!(phase(Delete, "DELETE_FAILED"), Failed);
        assert_eq!(phase(Delete, "DELETE_COMPLETE"), Succeeded);
    }

    #[test]
    fn only_settled_stacks_take_updates() {
        assert!(is_stable("UPDATE_ROLLBACK_COMPLETE"));
        assert!(!is_stable("ROLLBACK_COMPLETE"));
        assert!(!is_stable("UPDATE_IN_PROGRESS"));
    }
}
