//! Restricted inboxes: which of a workspace's conversations one caller may see. The
//! rule is written once, here; core builds a [`ConversationScope`] for each caller and
//! every read path (lists, counts, search, single reads, the agent feed) applies it,
//! the store's lists as SQL and the rest through [`ConversationScope::sees`].

use crate::*;

/// What one caller may see of the workspace's conversations.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub enum ConversationScope {
    /// Every conversation: the workspace shows all to all, or the caller is an owner or
    /// an admin.
    #[default]
    All,
    /// Those of `teams`, those assigned to `agent`, and those of no team. An API token
    /// with the `agent` role is nobody: it has no team and is assigned nothing.
    Restricted { agent: Option<AgentId>, teams: Vec<TeamId> },
}

impl ConversationScope {
    /// The scope of a caller with `role` (an agent, or `None` for an API token) who is a
    /// member of `teams`, in a workspace with `visibility`.
    pub fn new(visibility: InboxVisibility, role: Role, agent: Option<AgentId>, teams: Vec<TeamId>) -> Self {
        match (visibility, role) {
            (InboxVisibility::All, _) | (_, Role::Owner | Role::Admin) => ConversationScope::All,
            (InboxVisibility::Teams, Role::Agent) => ConversationScope::Restricted { agent, teams },
        }
    }

    /// Whether a conversation of this team and assignee is visible.
    pub fn sees_parts(&self, team_id: Option<TeamId>, assignee_id: Option<AgentId>) -> bool {
        match self {
            ConversationScope::All => true,
            ConversationScope::Restricted { agent, teams } => {
                team_id.is_none_or(|t| teams.contains(&t)) || (assignee_id.is_some() && assignee_id == *agent)
            }
        }
    }

    pub fn sees(&self, c: &Conversation) -> bool {
        self.sees_parts(c.team_id, c.assignee_id)
    }

    pub fn is_all(&self) -> bool {
        matches!(self, ConversationScope::All)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_and_admins_see_everything_and_so_does_everyone_when_the_workspace_says_all() {
        let (ana, sales) = (AgentId::new(), TeamId::new());
        for role in [Role::Owner, Role::Admin] {
            assert!(ConversationScope::new(InboxVisibility::Teams, role, Some(ana), vec![]).is_all(), "{role:?}");
        }
        assert!(ConversationScope::new(InboxVisibility::All, Role::Agent, Some(ana), vec![sales]).is_all());
    }

    #[test]
    fn a_restricted_agent_sees_their_teams_their_own_and_those_of_no_team() {
        let (ana, bo) = (AgentId::new(), AgentId::new());
        let (sales, support) = (TeamId::new(), TeamId::new());
        let scope = ConversationScope::new(InboxVisibility::Teams, Role::Agent, Some(ana), vec![sales]);
        assert!(scope.sees_parts(None, None), "no team: everyone's");
        assert!(scope.sees_parts(Some(sales), None), "her team's queue");
        assert!(scope.sees_parts(Some(sales), Some(bo)), "her team's, assigned to a colleague");
        assert!(scope.sees_parts(Some(support), Some(ana)), "another team's, assigned to her");
        assert!(!scope.sees_parts(Some(support), None), "another team's queue");
        assert!(!scope.sees_parts(Some(support), Some(bo)), "another team's, someone else's");
    }

    #[test]
    fn an_agent_role_token_is_nobody() {
        let scope = ConversationScope::new(InboxVisibility::Teams, Role::Agent, None, vec![]);
        assert!(scope.sees_parts(None, None));
        assert!(!scope.sees_parts(Some(TeamId::new()), None));
        assert!(!scope.sees_parts(Some(TeamId::new()), Some(AgentId::new())));
    }
}
