//! Contract cases for what the agent dashboard keeps: an agent's status, notification
//! preferences and activity, sessions kept across a password change, personal canned
//! responses, and managed labels.

use std::sync::Arc;

use switchboard_domain::*;

use super::{agent, fixture};
use crate::*;

pub async fn an_agent_keeps_status_notifications_and_activity(store: Arc<dyn Store>) {
    let f = fixture(&*store, "a").await;
    assert_eq!(store.agent(f.ws.id, f.agent.id).await.unwrap(), f.agent, "a new agent is online, active, told of everything");
    let mut changed = f.agent.clone();
    changed.status = AgentStatus::Away;
    changed.notifications = NotificationPrefs { sound: false, desktop: true, new_conversation: false, new_message: true };
    changed.active = false;
    store.update_agent(&changed).await.unwrap();
    assert_eq!(store.agent(f.ws.id, f.agent.id).await.unwrap(), changed);
    let (found, _) = store.agent_credentials(&f.agent.email).await.unwrap().unwrap();
    assert_eq!(found, changed, "sign-in sees the same agent, so it can refuse an inactive one");
}

pub async fn changing_a_password_can_keep_the_current_session(store: Arc<dyn Store>) {
    let f = fixture(&*store, "s").await;
    let other = agent(f.ws.id, "other@s.example");
    store.create_agent(&other, "h").await.unwrap();
    let session = |hash: &str, agent_id| Session {
        token_hash: hash.into(),
        agent_id,
        workspace_id: f.ws.id,
        csrf_token: "c".into(),
        created_at: Timestamp(100),
        expires_at: Timestamp(10_000),
    };
    for (hash, who) in [("laptop", f.agent.id), ("phone", f.agent.id), ("theirs", other.id)] {
        store.create_session(&session(hash, who)).await.unwrap();
    }
    store.delete_other_sessions(f.agent.id, "laptop").await.unwrap();
    assert!(store.session("laptop", Timestamp(200)).await.unwrap().is_some(), "the session that asked stays");
    assert!(store.session("phone", Timestamp(200)).await.unwrap().is_none(), "the agent's other sessions end");
    assert!(store.session("theirs", Timestamp(200)).await.unwrap().is_some(), "another agent's session is left alone");
}

fn canned(ws: WorkspaceId, owner: Option<AgentId>, shortcut: &str, body: &str) -> CannedResponse {
    CannedResponse {
        id: CannedResponseId::new(),
        workspace_id: ws,
        shortcut: shortcut.into(),
        body: body.into(),
        owner_id: owner,
        created_at: Timestamp(1),
    }
}

pub async fn personal_canned_responses_are_their_agents_own(store: Arc<dyn Store>) {
    let f = fixture(&*store, "c").await;
    let (ana, bo) = (f.agent.id, agent(f.ws.id, "bo@c.example"));
    store.create_agent(&bo, "h").await.unwrap();
    let shared = canned(f.ws.id, None, "hi", "Hello! How can I help?");
    let anas = canned(f.ws.id, Some(ana), "hi", "Merhaba, ben Ana.");
    let bos = canned(f.ws.id, Some(bo.id), "bye", "Goodbye!");
    for c in [&shared, &anas, &bos] {
        store.create_canned(c).await.unwrap();
    }
    let again = canned(f.ws.id, Some(ana), "hi", "twice");
    assert!(matches!(store.create_canned(&again).await, Err(StoreError::Conflict("shortcut"))), "unique among Ana's own");
    let shared_again = canned(f.ws.id, None, "hi", "twice");
    assert!(matches!(store.create_canned(&shared_again).await, Err(StoreError::Conflict("shortcut"))), "unique among the workspace's");

    assert_eq!(store.canned_responses(f.ws.id, Some(ana)).await.unwrap(), vec![shared.clone(), anas.clone()], "shared first");
    assert_eq!(store.canned_responses(f.ws.id, Some(bo.id)).await.unwrap(), vec![bos.clone(), shared.clone()]);
    assert_eq!(store.canned_responses(f.ws.id, None).await.unwrap(), vec![shared.clone()], "only the shared ones");

    let mut edited = anas.clone();
    edited.body = "سلام، من آنا هستم.".into();
    edited.owner_id = None;
    store.update_canned(&edited).await.unwrap();
    assert_eq!(store.canned(f.ws.id, anas.id).await.unwrap(), CannedResponse { owner_id: Some(ana), ..edited }, "the owner never changes");

    store.delete_agent(f.ws.id, bo.id).await.unwrap();
    assert!(matches!(store.canned(f.ws.id, bos.id).await, Err(StoreError::NotFound(Entity::CannedResponse))), "gone with its agent");
}

pub async fn managed_labels_are_unique_renamed_and_deleted(store: Arc<dyn Store>) {
    let a = fixture(&*store, "a").await;
    let b = fixture(&*store, "b").await;
    let label = |ws, name: &str, color: &str| ManagedLabel {
        workspace_id: ws,
        name: Label::parse(name).unwrap(),
        color: Color::parse(color).unwrap(),
        description: format!("{name} questions"),
        created_at: Timestamp(1),
    };
    let billing = label(a.ws.id, "billing", "#d1242f");
    let vip = label(a.ws.id, "vip", "#8250df");
    store.create_label(&vip).await.unwrap();
    store.create_label(&billing).await.unwrap();
    assert!(matches!(store.create_label(&billing).await, Err(StoreError::Conflict("label"))));
    store.create_label(&label(b.ws.id, "billing", "#000")).await.unwrap();
    assert_eq!(store.labels(a.ws.id).await.unwrap(), vec![billing.clone(), vip.clone()], "by name, this workspace's only");

    let renamed = ManagedLabel { name: Label::parse("payments").unwrap(), color: Color::parse("#0a0").unwrap(), ..billing.clone() };
    store.update_label(&billing.name, &renamed).await.unwrap();
    assert_eq!(store.label(a.ws.id, &renamed.name).await.unwrap(), renamed);
    assert!(matches!(store.label(a.ws.id, &billing.name).await, Err(StoreError::NotFound(Entity::Label))));
    let onto_vip = ManagedLabel { name: vip.name.clone(), ..renamed.clone() };
    assert!(matches!(store.update_label(&renamed.name, &onto_vip).await, Err(StoreError::Conflict("label"))));
    assert!(matches!(store.update_label(&billing.name, &renamed).await, Err(StoreError::NotFound(Entity::Label))));

    assert!(matches!(store.delete_label(b.ws.id, &vip.name).await, Err(StoreError::NotFound(Entity::Label))), "not another's");
    store.delete_label(a.ws.id, &vip.name).await.unwrap();
    assert_eq!(store.labels(a.ws.id).await.unwrap(), vec![renamed]);
}
