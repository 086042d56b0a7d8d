//! Proof of work on a site under attack: a visitor's first `send` is answered with a
//! challenge instead of being stored; the same `send` with a solution starts the
//! conversation; a wrong, foreign, expired or replayed solution is refused with a new
//! challenge; nothing is stored until a proof is accepted.

use std::sync::Arc;

use switchboard_core::pow::{PowChallenge as CoreChallenge, solve};
use switchboard_core::{Limits, ManualClock};
use switchboard_domain::Timestamp;
use switchboard_testkit::proto::{ErrorCode, PowChallenge, PowSolution, SiteRequest, VisitorIn, VisitorOut};
use switchboard_testkit::{TestApp, VisitorSocket, expect_frame};

/// A difficulty a test solves in a blink.
const BITS: u8 = 8;

async fn guarded_site() -> (TestApp, switchboard_testkit::Seed, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000)));
    let app = TestApp::spawn_limited(Limits { pow_difficulty: BITS, ..Limits::default() }, clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let mut appearance = owner.site(seed.site.id.0).await.unwrap().appearance;
    appearance.proof_of_work = true;
    let saved = owner.update_site(seed.site.id.0, &SiteRequest { appearance: Some(appearance), ..SiteRequest::default() }).await.unwrap();
    assert!(saved.appearance.proof_of_work);
    (app, seed, clock)
}

fn send(client_id: &str, pow: Option<PowSolution>) -> VisitorIn {
    VisitorIn::Send {
        client_id: client_id.into(),
        conversation_id: None,
        body: "Hello?".into(),
        format: None,
        attachment_ids: vec![],
        pow,
        invitation_id: None,
        team_id: None,
    }
}

/// The next error frame for `client_id`: its code and challenge.
async fn refused(ws: &mut VisitorSocket, client_id: &str) -> (ErrorCode, PowChallenge) {
    let (code, reference, pow) =
        expect_frame!(ws, VisitorOut::Error { code, reference, pow, .. } => (code, reference, pow)).expect("an error frame");
    assert_eq!(reference.as_deref(), Some(client_id));
    (code, pow.expect("a challenge comes with it"))
}

fn solved(c: &PowChallenge) -> PowSolution {
    let s = solve(&CoreChallenge { challenge: c.challenge.clone(), difficulty: c.difficulty });
    PowSolution { challenge: s.challenge, nonce: s.nonce }
}

#[tokio::test]
async fn a_visitor_proves_work_before_starting_a_conversation_and_a_proof_counts_once() {
    let (app, seed, _clock) = guarded_site().await;
    let owner = app.owner(&seed).await;
    let mut ana = app.visitor_socket(&seed.site).await;

    ana.send(&send("a-1", None)).await.unwrap();
    let (code, challenge) = refused(&mut ana, "a-1").await;
    assert_eq!((code, challenge.difficulty), (ErrorCode::PowRequired, BITS));
    assert!(owner.conversations(&Default::default()).await.unwrap().items.is_empty(), "nothing stored without a proof");

    // A nonce that does not hash to enough zeros is refused, with a new challenge.
    let wrong = (0u64..).map(|n| n.to_string()).find(|n| switchboard_core::pow::zero_bits(&challenge.challenge, n) == 0).unwrap();
    ana.send(&send("a-1", Some(PowSolution { challenge: challenge.challenge.clone(), nonce: wrong }))).await.unwrap();
    let (code, _) = refused(&mut ana, "a-1").await;
    assert_eq!(code, ErrorCode::PowInvalid);

    let proof = solved(&challenge);
    ana.send(&send("a-1", Some(proof.clone()))).await.unwrap();
    let ack = expect_frame!(ana, VisitorOut::Ack { conversation_id, .. } => conversation_id).expect("stored once proved");
    // Later messages in the conversation need no proof.
    ana.say(Some(ack), "a-2", "Are you there?").await.expect("no proof needed inside a conversation");

    // The same proof again, to start another conversation, is a replay.
    ana.send(&send("a-3", Some(proof.clone()))).await.unwrap();
    assert_eq!(refused(&mut ana, "a-3").await.0, ErrorCode::PowInvalid);
    // And another visitor cannot use Ana's either (nor a challenge made for Ana).
    let mut bo = app.visitor_socket(&seed.site).await;
    bo.send(&send("b-1", Some(solved(&challenge)))).await.unwrap();
    assert_eq!(refused(&mut bo, "b-1").await.0, ErrorCode::PowInvalid);
    assert_eq!(owner.conversations(&Default::default()).await.unwrap().items.len(), 1);
}

#[tokio::test]
async fn an_expired_challenge_is_refused_with_a_fresh_one() {
    let (app, seed, clock) = guarded_site().await;
    let mut ana = app.visitor_socket(&seed.site).await;
    ana.send(&send("a-1", None)).await.unwrap();
    let (_, challenge) = refused(&mut ana, "a-1").await;
    let proof = solved(&challenge);
    clock.advance(switchboard_core::pow::CHALLENGE_TTL_MS);
    ana.send(&send("a-1", Some(proof))).await.unwrap();
    let (code, fresh) = refused(&mut ana, "a-1").await;
    assert_eq!(code, ErrorCode::PowInvalid);
    assert_ne!(fresh.challenge, challenge.challenge);
    ana.send(&send("a-1", Some(solved(&fresh)))).await.unwrap();
    expect_frame!(ana, VisitorOut::Ack { .. }).expect("the fresh one works");
}

#[tokio::test]
async fn a_site_without_it_asks_for_no_proof() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let mut ana = app.visitor_socket(&seed.site).await;
    ana.say(None, "a-1", "Hello").await.expect("no proof asked");
}
