//! Faults the sandbox can inject into one write, so that tests (and anyone checking how a
//! client copes) can see a write refused, or applied with its answer lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What happens to the faulty write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFault {
    /// Refused cleanly (422), nothing applied.
    Fail,
    /// Applied, then answered 504 as if the answer had been lost on the way.
    DropAnswer,
}

/// Which write gets the fault: the `nth` (from 1) since the server started, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultPlan {
    pub fault: WriteFault,
    pub nth: u64,
}

impl FaultPlan {
    /// Reads `fail:N` or `drop:N`.
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, nth) = text.trim().split_once(':')?;
        let fault = match kind {
            "fail" => WriteFault::Fail,
            "drop" => WriteFault::DropAnswer,
            _ => return None,
        };
        let nth = nth.parse().ok().filter(|n| *n > 0)?;
        Some(Self { fault, nth })
    }
}

/// Counts writes and says which one gets the planned fault.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults {
    plan: Option<FaultPlan>,
    writes: Arc<AtomicU64>,
}

impl Faults {
    pub fn new(plan: Option<FaultPlan>) -> Self {
        Self { plan, writes: Arc::default() }
    }

    /// Counts one write; its fault, if it is the planned one.
    pub fn next_write(&self) -> Option<WriteFault> {
        let plan = self.plan?;
        let n = self.writes.fetch_add(1, Ordering::Relaxed) + 1;
        (n == plan.nth).then_some(plan.fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_is_read_from_its_setting() {
        assert_eq!(FaultPlan::parse("fail:3"), Some(FaultPlan { fault: WriteFault::Fail, nth: 3 }));
        assert_eq!(FaultPlan::parse("drop:1"), Some(FaultPlan { fault: WriteFault::DropAnswer, nth: 1 }));
        for bad in ["fail", "drop:0", "explode:2", "fail:x"] {
            assert_eq!(FaultPlan::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_the_nth_write_is_faulty() {
        let faults = Faults::new(FaultPlan::parse("drop:2"));
        let seen: Vec<_> = (0..4).map(|_| faults.next_write()).collect();
        assert_eq!(seen, [None, Some(WriteFault::DropAnswer), None, None]);
        assert_eq!(Faults::new(None).next_write(), None);
    }
}
