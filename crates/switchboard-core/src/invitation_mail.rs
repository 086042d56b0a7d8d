//! The invitation e-mail, in the invitee's language (en, ar, fa, he, tr, written by
//! hand): a subject naming the inviter and the workspace, a plain-text part and a
//! simple HTML part (`lang`, and `dir="rtl"` for Arabic, Persian and Hebrew) with the
//! link and when it stops working.
//!
//! Invariant: every value put into the HTML is escaped; the link is the only URL.

use switchboard_domain::{Locale, Role, Timestamp};

/// What the mail says, before it is worded.
pub(crate) struct InvitationLetter<'a> {
    pub locale: &'a Locale,
    pub invitee: Option<&'a str>,
    pub inviter: &'a str,
    pub workspace: &'a str,
    pub role: Role,
    pub link: &'a str,
    pub expires_at: Timestamp,
}

/// One language's sentences; `{inviter}`, `{workspace}`, `{role}`, `{name}` and `{date}`
/// are filled in.
struct Words {
    subject: &'static str,
    hello_named: &'static str,
    hello: &'static str,
    intro: &'static str,
    button: &'static str,
    follow: &'static str,
    expiry: &'static str,
    ignore: &'static str,
    roles: [&'static str; 3],
    rtl: bool,
}

const EN: Words = Words {
    subject: "{inviter} invited you to {workspace} on Switchboard",
    hello_named: "Hello {name},",
    hello: "Hello,",
    intro: "{inviter} invited you to join {workspace} on Switchboard as {role}.",
    button: "Accept the invitation",
    follow: "Accept the invitation and choose your password:",
    expiry: "This link works once, for 7 days (until {date} UTC).",
    ignore: "If you were not expecting this invitation, you can ignore this e-mail.",
    roles: ["an agent", "an admin", "an owner"],
    rtl: false,
};

const AR: Words = Words {
    subject: "دعاك {inviter} للانضمام إلى {workspace} على Switchboard",
    hello_named: "مرحبًا {name}،",
    hello: "مرحبًا،",
    intro: "دعاك {inviter} للانضمام إلى {workspace} على Switchboard بصفة {role}.",
    button: "قبول الدعوة",
    follow: "اقبل الدعوة واختر كلمة المرور الخاصة بك:",
    expiry: "يعمل هذا الرابط مرة واحدة فقط، ولمدة 7 أيام (حتى {date} بالتوقيت العالمي).",
    ignore: "إذا لم تكن تتوقع هذه الدعوة، يمكنك تجاهل هذه الرسالة.",
    roles: ["وكيل دعم", "مسؤول", "مالك"],
    rtl: true,
};

const FA: Words = Words {
    subject: "{inviter} شما را به {workspace} در Switchboard دعوت کرده است",
    hello_named: "سلام {name}،",
    hello: "سلام،",
    intro: "{inviter} از شما دعوت کرده است که با نقش {role} به {workspace} در Switchboard بپیوندید.",
    button: "پذیرفتن دعوت",
    follow: "دعوت را بپذیرید و گذرواژهٔ خود را انتخاب کنید:",
    expiry: "این پیوند فقط یک بار و به مدت ۷ روز کار می‌کند (تا {date} به وقت جهانی).",
    ignore: "اگر انتظار این دعوت را نداشتید، می‌توانید این ایمیل را نادیده بگیرید.",
    roles: ["کارشناس پشتیبانی", "مدیر", "مالک"],
    rtl: true,
};

const HE: Words = Words {
    subject: "{inviter} הזמין/ה אותך להצטרף אל {workspace} ב-Switchboard",
    hello_named: "שלום {name},",
    hello: "שלום,",
    intro: "{inviter} הזמין/ה אותך להצטרף אל {workspace} ב-Switchboard בתפקיד {role}.",
    button: "קבלת ההזמנה",
    follow: "כדי לקבל את ההזמנה ולבחור סיסמה:",
    expiry: "הקישור פועל פעם אחת בלבד, במשך 7 ימים (עד {date} UTC).",
    ignore: "אם לא ציפית להזמנה הזו, אפשר פשוט להתעלם מהודעה זו.",
    roles: ["נציג/ת תמיכה", "מנהל/ת", "בעלים"],
    rtl: true,
};

const TR: Words = Words {
    subject: "{inviter} sizi Switchboard'da {workspace} ekibine davet etti",
    hello_named: "Merhaba {name},",
    hello: "Merhaba,",
    intro: "{inviter} sizi Switchboard'da {workspace} ekibine {role} olarak katılmaya davet etti.",
    button: "Daveti kabul et",
    follow: "Daveti kabul edip şifrenizi belirlemek için:",
    expiry: "Bu bağlantı yalnızca bir kez ve 7 gün boyunca geçerlidir ({date} UTC'ye kadar).",
    ignore: "Bu daveti beklemiyorsanız bu e-postayı yok sayabilirsiniz.",
    roles: ["temsilci", "yönetici", "sahip"],
    rtl: false,
};

fn words(locale: &Locale) -> &'static Words {
    match locale.as_str().split('-').next().unwrap_or("") {
        "ar" => &AR,
        "fa" => &FA,
        "he" => &HE,
        "tr" => &TR,
        _ => &EN,
    }
}

/// The mail's subject, plain-text body and HTML body.
pub(crate) fn compose(letter: &InvitationLetter<'_>) -> (String, String, String) {
    let w = words(letter.locale);
    let role = w.roles[match letter.role {
        Role::Agent => 0,
        Role::Admin => 1,
        Role::Owner => 2,
    }];
    let date = jiff::Timestamp::from_millisecond(letter.expires_at.0)
        .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| String::from("?"));
    let fill = |s: &str, esc: fn(&str) -> String| {
        s.replace("{inviter}", &esc(letter.inviter))
            .replace("{workspace}", &esc(letter.workspace))
            .replace("{role}", &esc(role))
            .replace("{name}", &esc(letter.invitee.unwrap_or("")))
            .replace("{date}", &esc(&date))
    };
    let plain = |s: &str| s.to_owned();
    let hello = if letter.invitee.is_some() { w.hello_named } else { w.hello };
    let subject = fill(w.subject, plain);
    let text = format!(
        "{}\n\n{}\n\n{}\n{}\n\n{}\n\n{}\n",
        fill(hello, plain),
        fill(w.intro, plain),
        fill(w.follow, plain),
        letter.link,
        fill(w.expiry, plain),
        fill(w.ignore, plain)
    );
    let lang = escape(letter.locale.as_str());
    let dir = if w.rtl { "rtl" } else { "ltr" };
    let align = if w.rtl { "right" } else { "left" };
    let link = escape(letter.link);
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="{lang}" dir="{dir}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{subject}</title></head>
<body style="margin:0;padding:24px 12px;background:#f3f4f6;font-family:-apple-system,'Segoe UI',Tahoma,Arial,sans-serif;color:#111827;">
<div dir="{dir}" style="max-width:520px;margin:0 auto;background:#ffffff;border-radius:12px;padding:32px 28px;text-align:{align};line-height:1.6;">
<p style="margin:0 0 16px;font-size:16px;">{hello}</p>
<p style="margin:0 0 24px;font-size:16px;">{intro}</p>
<p style="margin:0 0 24px;text-align:center;"><a href="{link}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:8px;">{button}</a></p>
<p style="margin:0 0 8px;font-size:13px;color:#4b5563;">{follow}</p>
<p dir="ltr" style="margin:0 0 24px;font-size:13px;word-break:break-all;text-align:left;"><a href="{link}" style="color:#2563eb;">{link}</a></p>
<p style="margin:0 0 8px;font-size:13px;color:#4b5563;">{expiry}</p>
<p style="margin:0;font-size:13px;color:#6b7280;">{ignore}</p>
</div>
</body>
</html>
"#,
        subject = escape(&subject),
        hello = fill(hello, escape),
        intro = fill(w.intro, escape),
        button = escape(w.button),
        follow = escape(w.follow),
        expiry = fill(w.expiry, escape),
        ignore = escape(w.ignore),
    );
    (subject, text, html)
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(locale: &Locale) -> InvitationLetter<'_> {
        InvitationLetter {
            locale,
            invitee: Some("Dilan <b>"),
            inviter: "Ana & Co",
            workspace: "Acme",
            role: Role::Admin,
            link: "https://chat.example/app/invite/tok?x=1&y=2",
            // 2025-12-13 08:00 UTC
            expires_at: Timestamp(1_765_612_800_000),
        }
    }

    #[test]
    fn the_english_mail_names_inviter_workspace_role_link_and_expiry() {
        let en = Locale::default();
        let (subject, text, html) = compose(&letter(&en));
        assert_eq!(subject, "Ana & Co invited you to Acme on Switchboard");
        assert!(text.starts_with("Hello Dilan <b>,\n"), "{text}");
        assert!(text.contains("as an admin."), "{text}");
        assert!(text.contains("\nhttps://chat.example/app/invite/tok?x=1&y=2\n"), "the link stands alone on its line: {text}");
        assert!(text.contains("until 2025-12-13 08:00 UTC"), "{text}");
        assert!(html.contains(r#"<html lang="en" dir="ltr">"#));
        assert!(html.contains("Ana &amp; Co") && html.contains("Dilan &lt;b&gt;"), "values are escaped: {html}");
        assert!(html.contains(r#"href="https://chat.example/app/invite/tok?x=1&amp;y=2""#));
        assert!(!html.contains("<b>"), "no markup from a name");
    }

    #[test]
    fn arabic_persian_and_hebrew_mails_are_right_to_left_and_every_language_is_its_own() {
        let mut subjects = vec![];
        for tag in ["ar", "fa", "he", "tr", "en"] {
            let locale = Locale::parse(tag).unwrap();
            let (subject, text, html) = compose(&letter(&locale));
            let rtl = matches!(tag, "ar" | "fa" | "he");
            assert!(html.contains(&format!(r#"<html lang="{tag}" dir="{}">"#, if rtl { "rtl" } else { "ltr" })), "{tag}");
            assert!(subject.contains("Ana & Co") && subject.contains("Acme"), "{tag}: {subject}");
            assert!(text.contains("https://chat.example/app/invite/tok?x=1&y=2"), "{tag}");
            assert!(!text.contains('{'), "{tag}: every placeholder is filled: {text}");
            subjects.push(subject);
        }
        subjects.sort();
        subjects.dedup();
        assert_eq!(subjects.len(), 5, "no language falls back to another's words");
        let (_, text, _) = compose(&InvitationLetter { invitee: None, ..letter(&Locale::parse("tr").unwrap()) });
        assert!(text.starts_with("Merhaba,\n"), "{text}");
    }
}
