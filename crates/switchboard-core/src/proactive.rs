//! Proactive rules and lead scoring (issue 15): what a live visitor's moments set off.
//! Being built: until then a moment sets off nothing.

use switchboard_domain::{Moment, VisitorFacts};

use crate::Core;

impl Core {
    /// Live tracking calls this after each moment of a visitor's (arrival, page, event,
    /// exit intent, profile change, departure) with their facts as they are now.
    pub async fn visitor_moment(&self, facts: &VisitorFacts, moment: &Moment) {
        let _ = (facts, moment);
    }
}
