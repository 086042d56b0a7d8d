//! `switchboard demo`: a workspace a newcomer can sign in to and find alive. The
//! workspace, its site and owner are created once; the rest (a second agent, labels,
//! workspace canned responses, sample conversations in English, Arabic, Persian,
//! Hebrew and Turkish) is added only where it is missing, so running the demo again
//! changes nothing but the printed passwords. Everything goes through core's use cases.

use anyhow::Context;
use switchboard_core::{CannedScope, ContactPatch, Core, Draft, LabelInput, NewAgent, PageOrigin, Principal, SiteInput, Visitor, auth};
use switchboard_domain::*;

const WORKSPACE: &str = "Demo";
const OWNER: &str = "owner@demo.example";
const AGENT: &str = "leyla@demo.example";

/// Who writes a line of a sample conversation.
#[derive(Clone, Copy)]
enum By {
    Visitor,
    Owner,
    Agent,
    /// A private note by the second agent.
    Note,
}

struct Sample {
    name: &'static str,
    language: &'static str,
    lines: &'static [(By, &'static str)],
    labels: &'static [&'static str],
    assignee: Option<By>,
    resolved: bool,
}

const SAMPLES: &[Sample] = &[
    Sample {
        name: "Emily Carter",
        language: "en-GB",
        lines: &[
            (By::Visitor, "Hi! I ordered a pair of running shoes last Tuesday and the tracking page hasn't updated since Friday."),
            (By::Owner, "Hi Emily, thanks for your patience. The parcel is at the regional depot and should be out for delivery tomorrow."),
            (By::Visitor, "Great, thank you! Will I get an e-mail when it leaves the depot?"),
        ],
        labels: &["shipping"],
        assignee: Some(By::Owner),
        resolved: false,
    },
    Sample {
        name: "أحمد المصري",
        language: "ar-EG",
        lines: &[
            (By::Visitor, "مرحبًا، تم خصم المبلغ من بطاقتي مرتين لنفس الطلب. هل يمكنكم مساعدتي؟"),
            (By::Owner, "أهلًا أحمد، نعتذر عن ذلك. راجعت طلبك ووجدت الخصم المكرر، وسيُعاد المبلغ إلى بطاقتك خلال خمسة أيام عمل."),
            (By::Visitor, "شكرًا جزيلًا على سرعة الرد."),
        ],
        labels: &["billing"],
        assignee: Some(By::Owner),
        resolved: true,
    },
    Sample {
        name: "مریم احمدی",
        language: "fa-IR",
        lines: &[(By::Visitor, "سلام، می‌خواستم بدانم به شیراز هم ارسال دارید؟"), (By::Visitor, "و هزینهٔ ارسال تا آنجا چقدر می‌شود؟")],
        labels: &["shipping"],
        assignee: None,
        resolved: false,
    },
    Sample {
        name: "נועה כהן",
        language: "he-IL",
        lines: &[
            (By::Visitor, "שלום, אני מנסה להתחבר לחשבון שלי אבל לא מקבלת את המייל לאיפוס הסיסמה."),
            (By::Agent, "היי נועה, שלחתי עכשיו קישור חדש. כדאי לבדוק גם בתיקיית הספאם."),
            (By::Visitor, "מצאתי אותו, תודה רבה!"),
        ],
        labels: &[],
        assignee: Some(By::Agent),
        resolved: false,
    },
    Sample {
        name: "Mehmet Yılmaz",
        language: "tr-TR",
        lines: &[
            (By::Visitor, "Merhaba, faturamda şirket adının yanlış yazıldığını fark ettim. Düzeltebilir misiniz?"),
            (By::Agent, "Merhaba Mehmet Bey, tabii ki. Doğru şirket unvanını ve vergi numaranızı yazar mısınız?"),
            (By::Note, "Muhasebeye ilettim; yeni fatura yarın kesilecek."),
            (By::Visitor, "Unvanımız Yılmaz Tekstil A.Ş., vergi numaramız 1234567890. Teşekkürler!"),
        ],
        labels: &["billing", "vip"],
        assignee: Some(By::Agent),
        resolved: false,
    },
];

const LABELS: &[(&str, &str, &str)] = &[
    ("billing", "#d1242f", "Payments, invoices and refunds"),
    ("shipping", "#0969da", "Deliveries, tracking and returns"),
    ("vip", "#8250df", "Customers on the premium plan"),
];

const CANNED: &[(&str, &str)] = &[
    ("hello", "Hello {{contact.name}}, this is {{agent.name}} from {{site.name}}. How can I help you today?"),
    ("refund", "I'm sorry about that, {{contact.name}}. I've started a refund; it usually reaches your account within 5 business days."),
    (
        "tracking",
        "You can follow your parcel with the link in your shipping e-mail. If it hasn't moved in 48 hours, tell me and I'll check with the carrier.",
    ),
    ("thanks", "Thanks for contacting {{site.name}}! If anything else comes up, just reply here."),
];

/// Seeds what is missing and prints where to sign in.
/// Seeds the demo and prints how to sign in; returns the demo site's public key.
pub async fn seed(core: &Core, base: &str) -> anyhow::Result<String> {
    let password = auth::random_token(12);
    let email = Email::parse(OWNER)?;
    let existing = core.store.workspaces().await?.into_iter().find(|w| w.name == WORKSPACE);
    let (workspace, owner) = match existing {
        // Only hashes are stored, so a password cannot be shown again: set a fresh one.
        Some(ws) => (ws, core.reset_password(&email, &password).await.context("the demo owner is missing")?),
        None => core.create_workspace(WORKSPACE, new_agent(OWNER, "Demo Owner", Role::Owner, &password, "en")).await?,
    };
    let who = Principal { workspace_id: workspace.id, actor: Actor::Agent(owner.id), role: Role::Owner };
    let site = match core.sites(&who).await?.into_iter().next() {
        Some(site) => site.public_key,
        None => core.create_site(&who, SiteInput { name: Some("Demo shop".into()), ..Default::default() }).await?.public_key,
    };

    let agent_password = auth::random_token(12);
    let agent_email = Email::parse(AGENT)?;
    let agent = match core.agents(&who).await?.into_iter().find(|a| a.email == agent_email) {
        Some(_) => core.reset_password(&agent_email, &agent_password).await?,
        None => core.create_agent(&who, new_agent(AGENT, "Leyla Demir", Role::Agent, &agent_password, "tr")).await?,
    };
    let leyla = Principal { workspace_id: workspace.id, actor: Actor::Agent(agent.id), role: Role::Agent };

    let labels = core.labels(&who).await?;
    for (name, color, description) in LABELS {
        if !labels.iter().any(|l| l.name.as_str() == *name) {
            let input =
                LabelInput { name: Some(Label::parse(name)?), color: Some(Color::parse(color)?), description: Some((*description).into()) };
            core.create_label(&who, input).await?;
        }
    }
    let canned = core.canned_responses(&who).await?;
    for (shortcut, body) in CANNED {
        if !canned.iter().any(|c| c.shortcut == *shortcut && c.owner_id.is_none()) {
            core.create_canned(&who, CannedScope::Workspace, shortcut, body).await?;
        }
    }
    let conversations = core.conversations(&who, switchboard_store::ConversationFilter { limit: 1, ..Default::default() }).await?;
    if conversations.is_empty() {
        let site = core.visitor_site(&site, &PageOrigin::Ours).await?;
        for sample in SAMPLES {
            converse(core, &site, sample, &who, &leyla).await.with_context(|| format!("seeding {}'s conversation", sample.language))?;
        }
    }

    println!();
    println!("  Dashboard:  {base}/app   (API docs at {base}/api/docs)");
    println!("  Owner:      {OWNER}  password {password}");
    println!("  Agent:      {AGENT}  password {agent_password}");
    Ok(site)
}

fn new_agent(email: &str, name: &str, role: Role, password: &str, locale: &str) -> NewAgent {
    NewAgent {
        email: Email::parse(email).expect("a valid demo e-mail"),
        name: name.into(),
        role,
        password: password.into(),
        locale: Locale::parse(locale).ok(),
        max_chats: None,
        avatar_url: None,
    }
}

/// One sample conversation, written the way its people would: the visitor through
/// the widget's use cases, the team through the dashboard's.
async fn converse(core: &Core, site: &Site, sample: &Sample, owner: &Principal, agent: &Principal) -> anyhow::Result<()> {
    let device = DeviceInfo {
        browser: Some("Firefox".into()),
        os: Some("Android".into()),
        device: Some("Mobile".into()),
        language: Some(sample.language.into()),
    };
    let visitor: Visitor = core.visitor_on(site.clone(), None, device, None).await?;
    core.visitor_update(&visitor, ContactPatch { name: Some(Some(sample.name.into())), ..Default::default() }).await?;
    let mut conversation = None;
    for (i, (by, body)) in sample.lines.iter().enumerate() {
        let draft = Draft { client_id: Some(format!("demo-{}-{i}", visitor.contact.id)), body: (*body).into(), ..Default::default() };
        let done = match by {
            By::Visitor => core.visitor_send(&visitor, conversation, draft).await?,
            By::Owner => core.reply(owner, conversation.context("a visitor speaks first")?, draft, false).await?,
            By::Agent => core.reply(agent, conversation.context("a visitor speaks first")?, draft, false).await?,
            By::Note => core.reply(agent, conversation.context("a visitor speaks first")?, draft, true).await?,
        };
        conversation = Some(done.conversation.id);
    }
    let id = conversation.context("a sample has lines")?;
    let assignee = match sample.assignee {
        Some(By::Owner) => owner.agent_id(),
        Some(_) => agent.agent_id(),
        None => None,
    };
    if assignee.is_some() {
        core.assign(owner, id, assignee, None).await?;
    }
    if !sample.labels.is_empty() {
        core.set_labels(owner, id, parse_labels(sample.labels)?).await?;
    }
    if sample.resolved {
        core.set_status(owner, id, Status::Resolved).await?;
    }
    Ok(())
}

/// Serves a demo shop page on another port of the same address, so the widget runs as it
/// does on a business's site: its loader and frame come from another origin than the page.
/// Returns the page's URL. The listener lives as long as the process.
pub async fn shop(base: &str, key: &str, ip: std::net::IpAddr) -> anyhow::Result<String> {
    let page = include_str!("demo-shop.html").replace("{{BASE}}", base).replace("{{KEY}}", key);
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.context("binding the demo shop's port")?;
    let url = format!("http://{}/", listener.local_addr()?);
    let shop = axum::Router::new().fallback(move || {
        let page = page.clone();
        async move { axum::response::Html(page) }
    });
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, shop).await {
            tracing::warn!(error = %e, "the demo shop stopped");
        }
    });
    Ok(url)
}
