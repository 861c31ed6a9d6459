//! The review workflow and the access policy's questions for one record. Every answer comes
//! from [`crate::accounts::decide`] with the record's owner and state: no role is checked here.

use super::model::{Intervention, Workflow};
use super::problems::{FieldError, Problem};
use crate::accounts::{Action, Decision, Principal, Resource, decide};
use std::fmt;

impl fmt::Display for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Workflow {
    /// Whether records in this state are public.
    pub fn published(self) -> bool {
        self == Workflow::Published
    }

    /// The policy action moving a record from `self` to `to` needs: submitting (and taking a
    /// submission back to draft) is a write of the record; approving, publishing,
    /// unpublishing and returning an approved record are approvals. Anything else (skipping a
    /// step, staying put) is a [`Problem::Transition`] on the field `workflow`.
    pub fn action_to(self, to: Workflow) -> Result<Action, FieldError> {
        use Workflow::*;
        match (self, to) {
            (Draft, Submitted) | (Submitted, Draft) => Ok(Action::Write),
            (Submitted, Approved) | (Approved, Published) | (Published, Approved) | (Approved, Draft) => {
                Ok(Action::Approve)
            }
            _ => Err(FieldError::new("workflow", Problem::Transition { from: self, to })),
        }
    }
}

impl Intervention {
    /// The policy's answer to `principal` entering this record (a write of a record of its
    /// organisation, not published).
    pub fn may_create(&self, principal: &Principal) -> Decision {
        decide(principal, Action::Write, Resource::Record { owner: Some(self.organisation), published: false })
    }
}

/// Whether `principal` may enter or review any record at all: a partner editor of an
/// organisation (its own records), a coordinator, an administrator. The API asks it before
/// reading a body, so a viewer's or the public's write is refused as such (403, 401) rather
/// than checked first.
pub fn may_edit_some(principal: &Principal) -> Decision {
    let own = match principal {
        Principal::Person(c) => c.organisation_id,
        Principal::Anonymous => None,
    };
    let mine = Resource::Record { owner: own.or(Some(i64::MIN)), published: false };
    let other = Resource::Record { owner: Some(i64::MIN), published: false };
    for (action, resource) in [(Action::Write, mine), (Action::Write, other), (Action::Approve, other)] {
        if decide(principal, action, resource).allowed() {
            return Decision::Allow;
        }
    }
    decide(principal, Action::Write, mine)
}

/// The policy's answer to `principal` moving a record of `owner` from `from` to `to`; a move
/// the workflow does not allow is an error on the field `workflow`.
pub fn may_move(principal: &Principal, owner: i64, from: Workflow, to: Workflow) -> Result<Decision, FieldError> {
    let action = from.action_to(to)?;
    Ok(decide(principal, action, Resource::Record { owner: Some(owner), published: from.published() }))
}

/// The policy's answer to `principal` changing the content of a record of `owner` now in
/// `workflow` (`senda intervention`'s and the web's edits): a write of that record, and past
/// the draft a review's write too (an approval), so an organisation's editors change their
/// record while it is a draft (a record returned to them is a draft again) and a coordinator
/// at any time. Moving a record to another organisation needs this answer for both owners.
pub fn may_edit(principal: &Principal, owner: i64, workflow: Workflow) -> Decision {
    let record = Resource::Record { owner: Some(owner), published: workflow.published() };
    let write = decide(principal, Action::Write, record);
    if !write.allowed() || workflow == Workflow::Draft {
        return write;
    }
    decide(principal, Action::Approve, record)
}

/// Who sees the fields marked not for publication ([`super::Restricted`]): those who may edit
/// or review the record (derived from [`decide`]: a write of a draft of its organisation).
/// Everyone else (the public, viewers, other partners) gets them withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sight {
    /// Every record's (coordinators, administrators; the command line).
    All,
    /// The records of this organisation (its partner editors).
    Own(i64),
    /// No record's.
    Nothing,
}

impl Sight {
    /// The sight of `principal`, from the policy.
    pub fn of(principal: &Principal) -> Sight {
        let other = Resource::Record { owner: Some(i64::MIN), published: false };
        if decide(principal, Action::Write, other).allowed() {
            return Sight::All;
        }
        match principal {
            Principal::Person(c) => match c.organisation_id {
                Some(org)
                    if decide(principal, Action::Write, Resource::Record { owner: Some(org), published: false })
                        .allowed() =>
                {
                    Sight::Own(org)
                }
                _ => Sight::Nothing,
            },
            Principal::Anonymous => Sight::Nothing,
        }
    }

    /// Whether a record of `owner` is shown whole.
    pub fn sees(self, owner: i64) -> bool {
        match self {
            Sight::All => true,
            Sight::Own(org) => org == owner,
            Sight::Nothing => false,
        }
    }
}
