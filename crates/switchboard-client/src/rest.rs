//! The REST API under `/api/v1`: one typed method per operation, over generic
//! `get`/`post`/`put`/`patch`/`delete` that decode the documented body or the typed
//! [`ErrorBody`](switchboard_proto::ErrorBody). Signs in with a session (cookie plus the
//! CSRF header it hands out) or a bearer API token.

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_proto::*;
use uuid::Uuid;

use crate::ClientError;

/// A client of one server, signed in or not. Cheap to clone; clones share the cookie jar.
#[derive(Clone, Debug)]
pub struct Client {
    /// `http://host:port`, without a trailing slash.
    pub base: String,
    pub http: reqwest::Client,
    /// Sent as `X-CSRF-Token` once a session is signed in.
    pub csrf: Option<String>,
    /// An API token, sent as `Authorization: Bearer`.
    pub bearer: Option<String>,
}

/// Filters of `GET /conversations`; absent ones do not filter.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ConversationFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ConversationStatus>,
    /// `me`, `none`, or an agent id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbox_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<ConversationSort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// Which events of `GET /conversations/{id}/messages`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct HistoryFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// Which page of `GET /contacts/{id}/events`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PageQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

type Result<T> = std::result::Result<T, ClientError>;

impl Client {
    /// A client that is not signed in; `base` is `http://host:port`.
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder().cookie_store(true).build().expect("a TLS backend is compiled in");
        Self { base: base.trim_end_matches('/').to_owned(), http, csrf: None, bearer: None }
    }

    /// A client for an integration, authenticated by an API token.
    pub fn with_token(base: &str, token: &str) -> Self {
        Self { bearer: Some(token.to_owned()), ..Self::new(base) }
    }

    /// Signs in: the session cookie goes to the jar, the CSRF token into every later request.
    pub async fn login(&mut self, email: &str, password: &str) -> Result<Me> {
        let me: Me = self.post("/sessions", &LoginRequest { email: email.to_owned(), password: password.to_owned() }).await?;
        self.csrf = me.csrf_token.clone();
        Ok(me)
    }

    pub async fn logout(&self) -> Result<()> {
        self.delete("/sessions/current").await
    }

    pub async fn me(&self) -> Result<Me> {
        self.get("/me").await
    }

    pub async fn update_me(&self, change: &UpdateMe) -> Result<Agent> {
        self.patch("/me", change).await
    }

    /// Ends the agent's other sessions; this one stays.
    pub async fn change_password(&self, change: &ChangePassword) -> Result<()> {
        self.send(self.request(Method::POST, "/me/password").json(change)).await
    }

    /// "Sign out everywhere", this session included.
    pub async fn revoke_sessions(&self) -> Result<()> {
        self.send(self.request(Method::POST, "/me/sessions/revoke")).await
    }

    /// The escape hatch: a request to `/api/v1{path}` carrying this client's credentials,
    /// for bodies the typed methods cannot send (malformed JSON, odd headers).
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut req = self.http.request(method, format!("{}/api/v1{path}", self.base));
        if let Some(csrf) = &self.csrf {
            req = req.header("x-csrf-token", csrf);
        }
        if let Some(token) = &self.bearer {
            req = req.bearer_auth(token);
        }
        req
    }

    /// Sends a request and decodes the documented body, or the error body as [`ClientError::Api`].
    pub async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T> {
        let res = req.send().await?;
        let status = res.status().as_u16();
        let text = res.text().await?;
        // A body-less success (204) decodes as `()`.
        let json = if text.is_empty() { "null" } else { text.as_str() };
        if (200..300).contains(&status) {
            serde_json::from_str(json).map_err(|e| ClientError::Unexpected { status, text, error: e.to_string() })
        } else {
            match serde_json::from_str::<ErrorBody>(json) {
                Ok(body) => Err(ClientError::Api { status, body }),
                Err(e) => Err(ClientError::Unexpected { status, text, error: e.to_string() }),
            }
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.send(self.request(Method::POST, path).json(body)).await
    }

    pub async fn put<B: Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.send(self.request(Method::PUT, path).json(body)).await
    }

    pub async fn patch<B: Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.send(self.request(Method::PATCH, path).json(body)).await
    }

    pub async fn delete(&self, path: &str) -> Result<()> {
        self.send(self.request(Method::DELETE, path)).await
    }

    /// Sends a request whose success is a file, not JSON: its bytes, or the error body.
    pub async fn download(&self, req: reqwest::RequestBuilder) -> Result<bytes::Bytes> {
        let res = req.send().await?;
        let status = res.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(res.bytes().await?);
        }
        let text = res.text().await?;
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => Err(ClientError::Api { status, body }),
            Err(e) => Err(ClientError::Unexpected { status, text, error: e.to_string() }),
        }
    }

    // Conversations.

    pub async fn conversations(&self, filter: &ConversationFilter) -> Result<Page<Conversation>> {
        self.send(self.request(Method::GET, "/conversations").query(filter)).await
    }

    pub async fn conversation(&self, id: Uuid) -> Result<Conversation> {
        self.get(&format!("/conversations/{id}")).await
    }

    pub async fn conversation_counts(&self) -> Result<ConversationCounts> {
        self.get("/conversations/counts").await
    }

    /// The conversation's timeline: messages, notes and system events.
    pub async fn history(&self, id: Uuid, filter: &HistoryFilter) -> Result<Page<Event>> {
        self.send(self.request(Method::GET, &format!("/conversations/{id}/messages")).query(filter)).await
    }

    pub async fn reply(&self, id: Uuid, reply: &Reply) -> Result<ChangeResult> {
        self.post(&format!("/conversations/{id}/messages"), reply).await
    }

    pub async fn note(&self, id: Uuid, note: &Reply) -> Result<ChangeResult> {
        self.post(&format!("/conversations/{id}/notes"), note).await
    }

    pub async fn assign(&self, id: Uuid, to: &AssignRequest) -> Result<ChangeResult> {
        self.put(&format!("/conversations/{id}/assignee"), to).await
    }

    /// Takes an unassigned conversation; 409 `already_assigned` when someone else won.
    pub async fn claim(&self, id: Uuid) -> Result<Conversation> {
        self.post(&format!("/conversations/{id}/claim"), &serde_json::json!({})).await
    }

    /// Hands a conversation to an agent or a team.
    pub async fn transfer(&self, id: Uuid, to: &TransferRequest) -> Result<Conversation> {
        self.post(&format!("/conversations/{id}/transfer"), to).await
    }

    /// Every waiting queue.
    pub async fn queues(&self) -> Result<Queues> {
        self.get("/queues").await
    }

    pub async fn set_status(&self, id: Uuid, status: &StatusRequest) -> Result<ChangeResult> {
        self.put(&format!("/conversations/{id}/status"), status).await
    }

    pub async fn set_labels(&self, id: Uuid, labels: &LabelsRequest) -> Result<ChangeResult> {
        self.put(&format!("/conversations/{id}/labels"), labels).await
    }

    pub async fn set_priority(&self, id: Uuid, priority: &PriorityRequest) -> Result<ChangeResult> {
        self.put(&format!("/conversations/{id}/priority"), priority).await
    }

    pub async fn read(&self, id: Uuid, up_to: &ReadRequest) -> Result<ChangeResult> {
        self.post(&format!("/conversations/{id}/read"), up_to).await
    }

    // Contacts and search.

    pub async fn contacts(&self, q: &str) -> Result<Vec<Contact>> {
        self.send(self.request(Method::GET, "/contacts").query(&[("q", q)])).await
    }

    /// The contacts among `ids` that exist in the workspace (at most 100 ids).
    pub async fn contacts_by_id(&self, ids: &[Uuid]) -> Result<Vec<Contact>> {
        let ids = ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(",");
        self.send(self.request(Method::GET, "/contacts").query(&[("ids", ids)])).await
    }

    pub async fn contact(&self, id: Uuid) -> Result<Contact> {
        self.get(&format!("/contacts/{id}")).await
    }

    pub async fn update_contact(&self, id: Uuid, change: &UpdateContact) -> Result<Contact> {
        self.patch(&format!("/contacts/{id}"), change).await
    }

    /// Removes the contact's personal data (owners and admins).
    pub async fn erase_contact(&self, id: Uuid) -> Result<ErasureReport> {
        self.send(self.request(Method::POST, &format!("/contacts/{id}/erase"))).await
    }

    /// Everything held about the contact (owners and admins).
    pub async fn export_contact(&self, id: Uuid) -> Result<ContactExport> {
        self.get(&format!("/contacts/{id}/export")).await
    }

    pub async fn contact_pages(&self, id: Uuid) -> Result<Vec<PageView>> {
        self.get(&format!("/contacts/{id}/pages")).await
    }

    /// What the contact's pages tracked (`track` frames), newest first.
    pub async fn contact_events(&self, id: Uuid, page: &PageQuery) -> Result<Page<ContactEvent>> {
        self.send(self.request(Method::GET, &format!("/contacts/{id}/events")).query(page)).await
    }

    pub async fn search(&self, q: &str) -> Result<SearchResults> {
        self.send(self.request(Method::GET, "/search").query(&[("q", q)])).await
    }

    // Workspace administration.

    pub async fn agents(&self) -> Result<Vec<Agent>> {
        self.get("/agents").await
    }

    pub async fn create_agent(&self, agent: &CreateAgent) -> Result<Agent> {
        self.post("/agents", agent).await
    }

    pub async fn agent(&self, id: Uuid) -> Result<Agent> {
        self.get(&format!("/agents/{id}")).await
    }

    pub async fn update_agent(&self, id: Uuid, change: &UpdateAgent) -> Result<Agent> {
        self.patch(&format!("/agents/{id}"), change).await
    }

    /// Sets an agent's password and ends their sessions.
    pub async fn reset_agent_password(&self, id: Uuid, new_password: &str) -> Result<()> {
        let body = ResetPassword { new_password: new_password.to_owned() };
        self.send(self.request(Method::POST, &format!("/agents/{id}/password")).json(&body)).await
    }

    pub async fn delete_agent(&self, id: Uuid) -> Result<()> {
        self.delete(&format!("/agents/{id}")).await
    }

    pub async fn teams(&self) -> Result<Vec<Team>> {
        self.get("/teams").await
    }

    pub async fn team(&self, id: Uuid) -> Result<Team> {
        self.get(&format!("/teams/{id}")).await
    }

    pub async fn create_team(&self, team: &TeamRequest) -> Result<Team> {
        self.post("/teams", team).await
    }

    pub async fn update_team(&self, id: Uuid, change: &TeamRequest) -> Result<Team> {
        self.patch(&format!("/teams/{id}"), change).await
    }

    pub async fn delete_team(&self, id: Uuid) -> Result<()> {
        self.delete(&format!("/teams/{id}")).await
    }

    pub async fn sites(&self) -> Result<Vec<Site>> {
        self.get("/sites").await
    }

    pub async fn create_site(&self, site: &SiteRequest) -> Result<Site> {
        self.post("/sites", site).await
    }

    pub async fn site(&self, id: Uuid) -> Result<Site> {
        self.get(&format!("/sites/{id}")).await
    }

    pub async fn update_site(&self, id: Uuid, change: &SiteRequest) -> Result<Site> {
        self.patch(&format!("/sites/{id}"), change).await
    }

    /// Whether unsaved business hours are open now, and when they open next.
    pub async fn preview_hours(&self, hours: &BusinessHours) -> Result<HoursPreview> {
        self.post("/business-hours/preview", hours).await
    }

    /// What the site's next retention run removes, for its setting or for `days`.
    pub async fn retention_preview(&self, id: Uuid, days: Option<i64>) -> Result<RetentionPreview> {
        let req = self.request(Method::GET, &format!("/sites/{id}/retention/preview"));
        self.send(match days {
            Some(days) => req.query(&[("retention_days", days)]),
            None => req,
        })
        .await
    }

    pub async fn delete_site(&self, id: Uuid) -> Result<()> {
        self.delete(&format!("/sites/{id}")).await
    }

    pub async fn canned_responses(&self) -> Result<Vec<CannedResponse>> {
        self.get("/canned-responses").await
    }

    pub async fn create_canned_response(&self, canned: &CannedRequest) -> Result<CannedResponse> {
        self.post("/canned-responses", canned).await
    }

    pub async fn canned_response(&self, id: Uuid) -> Result<CannedResponse> {
        self.get(&format!("/canned-responses/{id}")).await
    }

    pub async fn update_canned_response(&self, id: Uuid, change: &CannedRequest) -> Result<CannedResponse> {
        self.patch(&format!("/canned-responses/{id}"), change).await
    }

    pub async fn delete_canned_response(&self, id: Uuid) -> Result<()> {
        self.delete(&format!("/canned-responses/{id}")).await
    }

    /// The workspace the caller belongs to, with its time zone.
    pub async fn workspace(&self) -> Result<Workspace> {
        self.get("/workspace").await
    }

    pub async fn update_workspace(&self, change: &UpdateWorkspace) -> Result<Workspace> {
        self.patch("/workspace", change).await
    }

    /// Where conversations come in: today, one website inbox per site.
    pub async fn inboxes(&self) -> Result<Vec<Inbox>> {
        self.get("/inboxes").await
    }

    pub async fn create_inbox(&self, inbox: &CreateInbox) -> Result<Inbox> {
        self.post("/inboxes", inbox).await
    }

    // Labels.

    pub async fn labels(&self) -> Result<Vec<Label>> {
        self.get("/labels").await
    }

    pub async fn create_label(&self, label: &LabelRequest) -> Result<Label> {
        self.post("/labels", label).await
    }

    pub async fn update_label(&self, name: &str, change: &LabelRequest) -> Result<Label> {
        self.patch(&format!("/labels/{name}"), change).await
    }

    pub async fn delete_label(&self, name: &str) -> Result<()> {
        self.delete(&format!("/labels/{name}")).await
    }

    pub async fn bans(&self) -> Result<Vec<Ban>> {
        self.get("/bans").await
    }

    pub async fn create_ban(&self, ban: &BanRequest) -> Result<Ban> {
        self.post("/bans", ban).await
    }

    pub async fn lift_ban(&self, id: Uuid) -> Result<()> {
        self.delete(&format!("/bans/{id}")).await
    }

    /// "Block this visitor": bans the conversation's contact (and, with `ip`, their address).
    pub async fn block_visitor(&self, conversation: Uuid, block: &BlockVisitorRequest) -> Result<Vec<Ban>> {
        self.post(&format!("/conversations/{conversation}/block"), block).await
    }

    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        self.get("/api-tokens").await
    }

    /// The secret is in the answer, and only there.
    pub async fn create_api_token(&self, token: &CreateApiToken) -> Result<CreatedApiToken> {
        self.post("/api-tokens", token).await
    }

    pub async fn delete_api_token(&self, id: Uuid) -> Result<()> {
        self.delete(&format!("/api-tokens/{id}")).await
    }

    // Proactive rules, lead scoring and conversions (issue 15).

    pub async fn triggers(&self, site: Uuid) -> Result<Vec<Trigger>> {
        self.get(&format!("/sites/{site}/triggers")).await
    }

    pub async fn create_trigger(&self, site: Uuid, rule: &TriggerRequest) -> Result<Trigger> {
        self.post(&format!("/sites/{site}/triggers"), rule).await
    }

    pub async fn trigger(&self, id: Uuid) -> Result<Trigger> {
        self.get(&format!("/triggers/{id}")).await
    }

    pub async fn update_trigger(&self, id: Uuid, rule: &TriggerRequest) -> Result<Trigger> {
        self.put(&format!("/triggers/{id}"), rule).await
    }

    pub async fn delete_trigger(&self, id: Uuid) -> Result<()> {
        self.delete(&format!("/triggers/{id}")).await
    }

    pub async fn scoring(&self) -> Result<Scoring> {
        self.get("/scoring").await
    }

    pub async fn set_scoring(&self, scoring: &Scoring) -> Result<Scoring> {
        self.put("/scoring", scoring).await
    }

    /// A site's conversions, newest first, after the cursor `before` (`next` of a page).
    pub async fn conversions(&self, site: Uuid, before: Option<&str>, limit: Option<u32>) -> Result<ConversionPage> {
        let mut path = format!("/sites/{site}/conversions?");
        if let Some(b) = before {
            path.push_str(&format!("before={b}&"));
        }
        if let Some(l) = limit {
            path.push_str(&format!("limit={l}"));
        }
        self.get(&path).await
    }

    // Attachments and the widget.

    /// Uploads a file as the multipart field `file`, as the dashboard does.
    pub async fn upload(&self, filename: &str, bytes: Vec<u8>) -> Result<Attachment> {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned());
        self.send(self.request(Method::POST, "/attachments").multipart(reqwest::multipart::Form::new().part("file", part))).await
    }

    /// An attachment's bytes, as the team downloads it.
    pub async fn attachment(&self, id: Uuid) -> Result<bytes::Bytes> {
        self.download(self.request(Method::GET, &format!("/attachments/{id}"))).await
    }

    /// A visitor's upload from the widget, authenticated by the visitor's token.
    pub async fn widget_upload(&self, site_key: &str, visitor_token: &str, filename: &str, bytes: Vec<u8>) -> Result<Attachment> {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned());
        let req = self
            .request(Method::POST, &format!("/widget/{site_key}/attachments"))
            .header("authorization", format!("Visitor {visitor_token}"))
            .multipart(reqwest::multipart::Form::new().part("file", part));
        self.send(req).await
    }

    /// An attachment's bytes as a visitor's page fetches them (`<img src>`): the token rides in the query.
    pub async fn widget_attachment(&self, site_key: &str, id: Uuid, visitor_token: &str) -> Result<bytes::Bytes> {
        let req = self.request(Method::GET, &format!("/widget/{site_key}/attachments/{id}")).query(&[("token", visitor_token)]);
        self.download(req).await
    }

    /// What the widget of the site with `site_key` needs to draw its launcher.
    pub async fn widget_site(&self, site_key: &str) -> Result<WidgetSite> {
        self.get(&format!("/widget/{site_key}")).await
    }

    /// The site's chat page link as an SVG QR code: its content type and the document.
    pub async fn site_qr(&self, id: Uuid) -> Result<(String, String)> {
        let res = self.request(Method::GET, &format!("/sites/{id}/qr.svg")).send().await?;
        let status = res.status().as_u16();
        let content_type = res.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let text = res.text().await?;
        if (200..300).contains(&status) {
            return Ok((content_type, text));
        }
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => Err(ClientError::Api { status, body }),
            Err(e) => Err(ClientError::Unexpected { status, text, error: e.to_string() }),
        }
    }
}
