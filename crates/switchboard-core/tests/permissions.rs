//! Who may do what with a workspace's settings, proved by calling core directly:
//! the rules hold for every caller, not only for the REST handlers.

mod support;

use support::{as_agent, new_agent};
use switchboard_core::*;
use switchboard_domain::*;

/// A workspace with its owner, an admin, an agent and a site, over a real store.
struct World {
    _dir: tempfile::TempDir,
    core: Core,
    owner: Principal,
    admin: Principal,
    agent: Principal,
    site: Site,
}

async fn world() -> World {
    let support::Team { _dir, core, owner, admin, agent } = support::team().await;
    let site = core.create_site(&owner, SiteInput { name: Some("Shop".into()), ..Default::default() }).await.unwrap();
    World { _dir, core, owner, admin, agent, site }
}

/// An API token's principal with `role`, as the bearer-token extractor builds it.
async fn token(core: &Core, owner: &Principal, role: Role) -> Principal {
    let created = core.create_api_token(owner, "integration", role, None).await.unwrap();
    Principal { workspace_id: owner.workspace_id, actor: Actor::Integration(created.token.id), role }
}

fn owner_id(who: &Principal) -> AgentId {
    who.agent_id().unwrap()
}

fn demote() -> AgentPatch {
    AgentPatch { role: Some(Role::Admin), ..Default::default() }
}

#[tokio::test]
async fn an_agent_sees_sites_without_their_identity_secrets() {
    let World { core, owner, admin, agent, site, .. } = &world().await;

    let listed = core.sites(agent).await.unwrap();
    assert_eq!(listed.iter().map(|s| (s.id, s.identity_secret.clone())).collect::<Vec<_>>(), [(site.id, None)]);
    let read = core.site(agent, site.id).await.unwrap();
    assert_eq!((read.name.as_str(), read.public_key.as_str(), read.identity_secret), ("Shop", site.public_key.as_str(), None));

    for boss in [owner, admin] {
        assert_eq!(core.site(boss, site.id).await.unwrap().identity_secret.as_deref(), Some(site.identity_secret.as_str()));
        assert_eq!(core.sites(boss).await.unwrap()[0].identity_secret.as_deref(), Some(site.identity_secret.as_str()));
    }
    let agent_token = token(core, owner, Role::Agent).await;
    assert_eq!(core.site(&agent_token, site.id).await.unwrap().identity_secret, None);
}

#[tokio::test]
async fn an_agent_reads_the_roster_but_changes_no_settings() {
    let World { core, owner, agent, site, .. } = &world().await;
    let team = core.create_team(owner, "Sales", vec![], None, Default::default()).await.unwrap();

    let canned = core.create_canned(owner, CannedScope::Workspace, "hi", "Hello!").await.unwrap();

    // What the dashboard needs.
    assert_eq!(core.agents(agent).await.unwrap().len(), 3);
    assert_eq!(core.teams(agent).await.unwrap(), std::slice::from_ref(&team));
    assert_eq!(core.canned_responses(agent).await.unwrap(), std::slice::from_ref(&canned));
    assert_eq!(core.workspace(agent).await.unwrap().id, owner.workspace_id);

    // Everything else is refused, whatever the way in.
    let forbidden = |r: Result<(), Error>| assert!(matches!(r, Err(Error::Forbidden)), "{r:?}");
    let rename = || SiteInput { name: Some("Mine".into()), ..Default::default() };
    forbidden(core.create_site(agent, rename()).await.map(drop));
    forbidden(core.update_site(agent, site.id, SiteInput { rotate_identity_secret: true, ..Default::default() }).await.map(drop));
    forbidden(core.delete_site(agent, site.id).await);
    forbidden(core.create_team(agent, "Mine", vec![], None, Default::default()).await.map(drop));

    forbidden(core.update_team(agent, team.id, Some("Mine"), None, None, Default::default()).await.map(drop));

    forbidden(core.delete_team(agent, team.id).await);
    forbidden(core.create_canned(agent, CannedScope::Workspace, "x", "y").await.map(drop));
    forbidden(core.update_canned(agent, canned.id, None, Some("changed")).await.map(drop));
    forbidden(core.delete_canned(agent, canned.id).await);
    forbidden(core.api_tokens(agent).await.map(drop));
    forbidden(core.create_api_token(agent, "mine", Role::Agent, None).await.map(drop));
    forbidden(core.create_agent(agent, new_agent("eve@shop.example", Role::Agent)).await.map(drop));
    forbidden(core.update_agent(agent, owner_id(owner), AgentPatch { name: Some("Pwned".into()), ..Default::default() }).await.map(drop));
    forbidden(core.delete_agent(agent, owner_id(owner)).await);

    // Nothing changed.
    let unchanged = core.site(owner, site.id).await.unwrap();
    assert_eq!((unchanged.name.as_str(), unchanged.identity_secret.as_deref()), ("Shop", Some(site.identity_secret.as_str())));
    assert_eq!(core.teams(owner).await.unwrap(), [team]);
    assert_eq!(core.canned_responses(owner).await.unwrap(), [canned]);
    assert_eq!(core.agents(owner).await.unwrap().len(), 3);
}

#[tokio::test]
async fn only_owners_manage_owners() {
    let World { core, owner, admin, agent, .. } = &world().await;
    let agent_id = owner_id(agent);
    let forbidden = |r: Result<(), Error>| assert!(matches!(r, Err(Error::Forbidden)), "{r:?}");

    forbidden(core.create_agent(admin, new_agent("otto@shop.example", Role::Owner)).await.map(drop));
    let promote = AgentPatch { role: Some(Role::Owner), ..Default::default() };
    forbidden(core.update_agent(admin, agent_id, promote.clone()).await.map(drop));
    // Changing an owner's e-mail or password would let an admin sign in as them.
    let takeover = AgentPatch { email: Some(Email::parse("adam+owner@shop.example").unwrap()), ..Default::default() };
    forbidden(core.update_agent(admin, owner_id(owner), takeover).await.map(drop));
    let password = AgentPatch { password: Some("the admin's choice".into()), ..Default::default() };
    forbidden(core.update_agent(admin, owner_id(owner), password).await.map(drop));
    forbidden(core.update_agent(admin, owner_id(owner), demote()).await.map(drop));
    forbidden(core.delete_agent(admin, owner_id(owner)).await);
    let owner_token = core.create_api_token(owner, "deploys", Role::Owner, None).await.unwrap();
    forbidden(core.delete_api_token(admin, owner_token.token.id).await);

    // An owner may do all of it.
    assert_eq!(core.update_agent(owner, agent_id, promote).await.unwrap().role, Role::Owner);
    core.delete_api_token(owner, owner_token.token.id).await.unwrap();
    // An admin still manages agents and admins.
    assert_eq!(
        core.update_agent(admin, owner_id(admin), AgentPatch { name: Some("Adam".into()), ..Default::default() }).await.unwrap().name,
        "Adam"
    );
    let eve = core.create_agent(admin, new_agent("eve@shop.example", Role::Agent)).await.unwrap();
    core.delete_agent(admin, eve.id).await.unwrap();
}

#[tokio::test]
async fn the_last_owner_can_be_neither_demoted_nor_deleted() {
    let World { core, owner, .. } = &world().await;
    let owner_token = token(core, owner, Role::Owner).await;

    // By an owner-role API token, the way the issue describes it.
    let demoted = core.update_agent(&owner_token, owner_id(owner), demote()).await;
    assert!(matches!(demoted, Err(Error::LastOwner)), "{demoted:?}");
    let deleted = core.delete_agent(&owner_token, owner_id(owner)).await;
    assert!(matches!(deleted, Err(Error::LastOwner)), "{deleted:?}");
    // Nor by the owner's own session.
    assert!(matches!(core.update_agent(owner, owner_id(owner), demote()).await, Err(Error::Forbidden)));
    assert!(matches!(core.delete_agent(owner, owner_id(owner)).await, Err(Error::Forbidden)));

    let still = core.agent(owner, owner_id(owner)).await.unwrap();
    assert_eq!(still.role, Role::Owner);
}

#[tokio::test]
async fn of_two_owners_one_can_be_demoted_and_then_the_other_is_the_last() {
    let World { core, owner, agent, .. } = &world().await;
    let second =
        as_agent(&core.update_agent(owner, owner_id(agent), AgentPatch { role: Some(Role::Owner), ..Default::default() }).await.unwrap());
    let owner_token = token(core, owner, Role::Owner).await;

    // The second owner demotes the first…
    assert_eq!(core.update_agent(&second, owner_id(owner), demote()).await.unwrap().role, Role::Admin);
    // …and is now the last owner: neither the token nor the former owner can remove them.
    let demoted = core.update_agent(&owner_token, owner_id(&second), demote()).await;
    assert!(matches!(demoted, Err(Error::LastOwner)), "{demoted:?}");
    let deleted = core.delete_agent(&owner_token, owner_id(&second)).await;
    assert!(matches!(deleted, Err(Error::LastOwner)), "{deleted:?}");

    // With an owner again beside them, the token may delete one.
    let third = core.create_agent(&owner_token, new_agent("otto@shop.example", Role::Owner)).await.unwrap();
    core.delete_agent(&owner_token, owner_id(&second)).await.unwrap();
    let owners: Vec<_> = core.agents(owner).await.unwrap().into_iter().filter(|a| a.role == Role::Owner).map(|a| a.id).collect();
    assert_eq!(owners, [third.id]);
}
