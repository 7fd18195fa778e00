//! What a report prints for a code, in Japanese or English: topics, handling statuses,
//! request outcomes, modes, tiers and the column names. The pages carry their own strings;
//! these are for the files (CSV, Excel) a report is downloaded as.

use kakehashi_dispatch::LanguageId;

/// The language a report file is written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Japanese, the default: the municipalities' staff read these.
    #[default]
    Ja,
    /// English.
    En,
}

/// Every code a report file names, with its Japanese and English label. Codes are unique
/// across kinds (a test says so).
const LABELS: &[(&str, &str, &str)] = &[
    // Topics (the protocol's taxonomy).
    ("residence_status", "在留資格", "Residence status"),
    ("work", "労働・仕事", "Work"),
    ("medical", "医療・保険", "Medical care, insurance"),
    ("welfare", "福祉", "Welfare"),
    ("childcare_schooling", "子育て・教育", "Childcare, school"),
    ("care", "介護", "Elderly care"),
    ("housing", "住まい", "Housing"),
    ("tax_pension", "税金・年金", "Tax, pension"),
    ("japanese_study", "日本語学習", "Japanese study"),
    ("domestic_violence", "DV", "Domestic violence"),
    ("hardship", "生活困窮", "Hardship"),
    ("other", "その他", "Other"),
    // Handling statuses.
    ("resolved", "窓口で解決", "Resolved"),
    ("referred", "紹介", "Referred"),
    ("follow_up", "後日対応", "Follow-up"),
    ("interrupted", "中断", "Cut short"),
    ("not_recorded", "未記録", "Not recorded"),
    // What happened to the request.
    ("answered", "通訳実施", "Interpreted"),
    ("abandoned", "取消", "Cancelled"),
    ("expired", "待ち時間超過", "Waited too long"),
    ("unserved", "対応者なし", "Nobody available"),
    // Modes.
    ("counter", "窓口", "At the counter"),
    ("remote", "三者通話(リンク)", "Three-way (link)"),
    ("phone", "電話", "Phone"),
    // Tiers.
    ("staff", "職員", "Staff"),
    ("contractor", "委託", "Contractor"),
    ("volunteer", "ボランティア", "Volunteer"),
];

/// The label of `code`, or the code itself when it is not one of ours (a value written by
/// a newer version, say): a report never drops what it does not know.
pub fn label(lang: Lang, code: &str) -> &str {
    match LABELS.iter().find(|l| l.0 == code) {
        Some((_, ja, en)) => match lang {
            Lang::Ja => ja,
            Lang::En => en,
        },
        None => code,
    }
}

/// A language's name for staff (Japanese or English), or the tag when it is not in the
/// catalogue.
pub fn language(lang: Lang, tag: &str) -> String {
    match LanguageId::parse(tag) {
        Ok(id) => match lang {
            Lang::Ja => id.info().japanese.to_string(),
            Lang::En => id.info().english.to_string(),
        },
        Err(_) => tag.to_string(),
    }
}

/// A column name or a caption, in `lang`.
pub fn pick(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Ja => ja,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_has_a_label_and_codes_are_unique() {
        for topic in kakehashi_protocol::Topic::ALL {
            assert_ne!(label(Lang::Ja, topic.code()), topic.code(), "{}", topic.code());
        }
        for (i, a) in LABELS.iter().enumerate() {
            assert!(LABELS[i + 1..].iter().all(|b| b.0 != a.0), "{} twice", a.0);
        }
        assert_eq!(label(Lang::En, "newer_code"), "newer_code");
        assert_eq!(language(Lang::Ja, "vi"), "ベトナム語");
        assert_eq!(language(Lang::En, "xx-unknown"), "xx-unknown");
    }
}
