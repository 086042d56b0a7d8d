//! Contract cases for invitations by e-mail: one pending invitation per workspace and
//! e-mail, links found only by their current hash, and accepting as one transaction
//! that takes the invitation once and makes the agent a member of its teams.

use std::sync::Arc;

use switchboard_domain::*;

use super::{agent, fixture};
use crate::*;

fn invitation(ws: WorkspaceId, email: &str, at: i64, by: Option<AgentId>, teams: Vec<TeamId>) -> AgentInvitation {
    AgentInvitation {
        id: AgentInvitationId::new(),
        workspace_id: ws,
        email: Email::parse(email).unwrap(),
        name: Some("Dilan Yıldız".into()),
        role: Role::Admin,
        team_ids: teams,
        max_chats: Some(4),
        locale: Locale::parse("tr").unwrap(),
        invited_by: by,
        created_at: Timestamp(at),
        expires_at: Timestamp(at + INVITATION_TTL_MS),
        used_at: None,
        revoked_at: None,
        mail: InvitationMail::Queued,
        mail_error: None,
    }
}

fn team(ws: WorkspaceId, name: &str) -> Team {
    Team {
        id: TeamId::new(),
        workspace_id: ws,
        name: name.into(),
        agent_ids: vec![],
        business_hours: None,
        routing: TeamRouting::default(),
        created_at: Timestamp(1),
    }
}

pub async fn an_invitation_is_pending_once_per_email_until_revoked_or_expired(store: Arc<dyn Store>) {
    let a = fixture(&*store, "a").await;
    let b = fixture(&*store, "b").await;
    let first = invitation(a.ws.id, "dilan@example.com", 1_000, Some(a.agent.id), vec![]);
    store.create_agent_invitation(&first, "hash-1").await.unwrap();
    assert_eq!(store.agent_invitation(a.ws.id, first.id).await.unwrap(), first, "kept as it was made");
    assert_eq!(store.agent_invitation_by_token("hash-1").await.unwrap(), Some(first.clone()));
    assert_eq!(store.agent_invitation_by_token("hash-2").await.unwrap(), None);
    assert!(matches!(store.agent_invitation(b.ws.id, first.id).await, Err(StoreError::NotFound(Entity::AgentInvitation))), "not another's");
    assert_eq!(store.agent_invitations(b.ws.id).await.unwrap(), []);

    let again = invitation(a.ws.id, "dilan@example.com", 2_000, None, vec![]);
    assert!(
        matches!(store.create_agent_invitation(&again, "hash-2").await, Err(StoreError::Conflict("invitation"))),
        "one pending per e-mail"
    );
    let elsewhere = invitation(b.ws.id, "dilan@example.com", 2_000, None, vec![]);
    store.create_agent_invitation(&elsewhere, "hash-3").await.unwrap();
    let other = invitation(a.ws.id, "sam@example.com", 3_000, None, vec![]);
    store.create_agent_invitation(&other, "hash-4").await.unwrap();
    assert_eq!(store.agent_invitations(a.ws.id).await.unwrap(), [other.clone(), first.clone()], "newest first");

    assert!(matches!(store.revoke_agent_invitation(b.ws.id, first.id, Timestamp(4_000)).await, Err(StoreError::NotFound(_))));
    store.revoke_agent_invitation(a.ws.id, first.id, Timestamp(4_000)).await.unwrap();
    assert!(matches!(store.revoke_agent_invitation(a.ws.id, first.id, Timestamp(4_001)).await, Err(StoreError::NotFound(_))), "once");
    assert_eq!(store.agent_invitations(a.ws.id).await.unwrap(), std::slice::from_ref(&other), "a revoked one is no longer listed");
    let revoked = store.agent_invitation_by_token("hash-1").await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(Timestamp(4_000)));
    store.create_agent_invitation(&again, "hash-2").await.unwrap();

    // An expired invitation gives way to a new one for the same e-mail.
    let later = invitation(a.ws.id, "sam@example.com", other.expires_at.0, None, vec![]);
    store.create_agent_invitation(&later, "hash-5").await.unwrap();
    assert!(store.agent_invitation(a.ws.id, other.id).await.unwrap().revoked_at.is_some(), "the expired one is set aside");
    assert_eq!(store.agent_invitations(a.ws.id).await.unwrap(), [later, again]);
}

pub async fn a_resend_replaces_the_link_and_only_the_current_links_mail_is_recorded(store: Arc<dyn Store>) {
    let f = fixture(&*store, "r").await;
    let inv = invitation(f.ws.id, "kai@example.com", 1_000, Some(f.agent.id), vec![]);
    store.create_agent_invitation(&inv, "old").await.unwrap();
    assert!(store.agent_invitation_token_is(f.ws.id, inv.id, "old").await.unwrap());
    assert!(store.set_agent_invitation_mail(f.ws.id, inv.id, "old", InvitationMail::Failed, Some("451 try later")).await.unwrap());
    let failed = store.agent_invitation(f.ws.id, inv.id).await.unwrap();
    assert_eq!((failed.mail, failed.mail_error.as_deref()), (InvitationMail::Failed, Some("451 try later")));

    let renewed = store.renew_agent_invitation(f.ws.id, inv.id, "new", Timestamp(9_000), InvitationMail::Queued).await.unwrap();
    assert_eq!((renewed.expires_at, renewed.mail, renewed.mail_error.clone()), (Timestamp(9_000), InvitationMail::Queued, None));
    assert_eq!(store.agent_invitation_by_token("old").await.unwrap(), None, "the old link is dead");
    assert_eq!(store.agent_invitation_by_token("new").await.unwrap(), Some(renewed.clone()));
    assert!(!store.agent_invitation_token_is(f.ws.id, inv.id, "old").await.unwrap());
    assert!(
        !store.set_agent_invitation_mail(f.ws.id, inv.id, "old", InvitationMail::Sent, None).await.unwrap(),
        "a stale mail records nothing"
    );
    assert_eq!(store.agent_invitation(f.ws.id, inv.id).await.unwrap().mail, InvitationMail::Queued);
    assert!(store.set_agent_invitation_mail(f.ws.id, inv.id, "new", InvitationMail::Sent, None).await.unwrap());
    assert_eq!(store.agent_invitation(f.ws.id, inv.id).await.unwrap().mail, InvitationMail::Sent);

    store.revoke_agent_invitation(f.ws.id, inv.id, Timestamp(9_500)).await.unwrap();
    assert!(matches!(
        store.renew_agent_invitation(f.ws.id, inv.id, "newer", Timestamp(20_000), InvitationMail::Queued).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn accepting_makes_the_agent_a_member_of_the_teams_once(store: Arc<dyn Store>) {
    let f = fixture(&*store, "t").await;
    let (support, sales, gone) = (team(f.ws.id, "Support"), team(f.ws.id, "Sales"), team(f.ws.id, "Gone"));
    for t in [&support, &sales, &gone] {
        store.create_team(t).await.unwrap();
    }
    let inv = invitation(f.ws.id, "noa@example.com", 1_000, Some(f.agent.id), vec![support.id, gone.id]);
    store.create_agent_invitation(&inv, "link").await.unwrap();
    store.delete_team(f.ws.id, gone.id).await.unwrap();

    let expired_at = inv.expires_at;
    let newcomer = Agent { role: inv.role, max_chats: inv.max_chats, ..agent(f.ws.id, "noa@example.com") };
    assert!(
        matches!(
            store.accept_agent_invitation("link", &newcomer, "pw-hash", expired_at).await,
            Err(StoreError::NotFound(Entity::AgentInvitation))
        ),
        "not at its expiry"
    );
    assert!(matches!(store.accept_agent_invitation("nope", &newcomer, "pw-hash", Timestamp(2_000)).await, Err(StoreError::NotFound(_))));

    // An e-mail that signs in already leaves everything as it was.
    let taken = agent(f.ws.id, "taken@example.com");
    store.create_agent(&taken, "h").await.unwrap();
    let clash = Agent { email: taken.email.clone(), ..newcomer.clone() };
    assert!(matches!(store.accept_agent_invitation("link", &clash, "pw-hash", Timestamp(2_000)).await, Err(StoreError::Conflict("email"))));
    assert_eq!(store.agent_invitation(f.ws.id, inv.id).await.unwrap().used_at, None, "still pending");
    assert!(store.agent(f.ws.id, clash.id).await.is_err());

    let used = store.accept_agent_invitation("link", &newcomer, "pw-hash", Timestamp(2_000)).await.unwrap();
    assert_eq!(used.used_at, Some(Timestamp(2_000)));
    let (stored, hash) = store.agent_credentials(&newcomer.email).await.unwrap().unwrap();
    assert_eq!((stored, hash.as_str()), (newcomer.clone(), "pw-hash"));
    assert_eq!(store.team(f.ws.id, support.id).await.unwrap().agent_ids, [newcomer.id]);
    assert_eq!(store.team(f.ws.id, sales.id).await.unwrap().agent_ids, [] as [AgentId; 0]);
    assert_eq!(store.agent_invitations(f.ws.id).await.unwrap(), [], "a used one is no longer listed");

    let twice = Agent { id: AgentId::new(), email: Email::parse("noa2@example.com").unwrap(), ..newcomer };
    assert!(
        matches!(store.accept_agent_invitation("link", &twice, "pw-hash", Timestamp(2_001)).await, Err(StoreError::NotFound(_))),
        "once"
    );
    assert!(store.agent(f.ws.id, twice.id).await.is_err());
    assert!(
        matches!(store.revoke_agent_invitation(f.ws.id, inv.id, Timestamp(3_000)).await, Err(StoreError::NotFound(_))),
        "used is not pending"
    );
}
