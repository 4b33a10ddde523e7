//! The `infos` strings of `appendBundles`: per bundle, what the app's hooks receive (unicast
//! details), whether it is only announced (broadcast-only), which installed bundle receives the
//! data of which old one (`app_mapping_relation`), and a few flags.

use serde_json::{json, Value};

/// The user id OpenHarmony adds to every unicast `details` list.
pub const USER_ID: &str = "100";

/// What one `infos` string says about its bundle.
#[derive(Clone, Debug, PartialEq)]
pub struct BundleInfos {
    /// The unicast `details`, plus `{"type":"userId","detail":"100"}`.
    pub details: Vec<Value>,
    /// `isBroadcastOnly: true` (a JSON bool): announce, do not back up or restore.
    pub broadcast_only: bool,
    /// `app_mapping_relation` pairs `(source, target)`.
    pub mappings: Vec<(String, String)>,
    /// `clearBackupData` (a string; default true): remove the app's temp data afterwards.
    pub clear_backup_data: bool,
    /// `backupScene`: selects an `optionDir` of the profile.
    pub backup_scene: Option<String>,
}

impl Default for BundleInfos {
    fn default() -> Self {
        BundleInfos {
            details: vec![json!({"type": "userId", "detail": USER_ID})],
            broadcast_only: false,
            mappings: Vec::new(),
            clear_backup_data: true,
            backup_scene: None,
        }
    }
}

impl BundleInfos {
    /// Parses one `infos` string leniently, as OpenHarmony does: what cannot be understood is
    /// left at its default (the bundle is still processed).
    pub fn parse(text: &str) -> BundleInfos {
        let mut out = BundleInfos::default();
        let Ok(Value::Object(root)) = serde_json::from_str::<Value>(text) else {
            return out;
        };
        if let Some(Value::String(s)) = root.get("clearBackupData") {
            out.clear_backup_data = s != "false";
        }
        if let Some(Value::String(s)) = root.get("backupScene") {
            if !s.is_empty() {
                out.backup_scene = Some(s.clone());
            }
        }
        let Some(Value::Array(items)) = root.get("infos") else {
            return out;
        };
        let mut unicast: Vec<Value> = Vec::new();
        for item in items {
            let Some(kind) = item.get("type").and_then(Value::as_str) else {
                break;
            };
            let details = item
                .get("details")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            match kind {
                "unicast" => unicast.extend(details),
                "broadcast" => {
                    if item.get("isBroadcastOnly") == Some(&Value::Bool(true)) {
                        out.broadcast_only = true;
                    }
                    for d in &details {
                        if d.get("type").and_then(Value::as_str) != Some("app_mapping_relation") {
                            continue;
                        }
                        for pair in d
                            .get("detail")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            if let (Some(s), Some(t)) = (
                                pair.get("source").and_then(Value::as_str),
                                pair.get("target").and_then(Value::as_str),
                            ) {
                                out.mappings.push((s.to_string(), t.to_string()));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        unicast.push(json!({"type": "userId", "detail": USER_ID}));
        out.details = unicast;
        out
    }

    /// The text the app's `onBackupEx`/`onRestoreEx` receives: the details, pretty-printed.
    pub fn hook_info(&self) -> String {
        serde_json::to_string_pretty(&self.details).unwrap_or_else(|_| "[]".into())
    }

    /// The installed bundle that receives the data of `source` (itself unless mapped).
    pub fn target_of<'a>(&'a self, source: &'a str) -> &'a str {
        self.mappings
            .iter()
            .find(|(s, _)| s == source)
            .map(|(_, t)| t.as_str())
            .unwrap_or(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicast_details_get_the_user_id_and_reach_the_hooks() {
        let i = BundleInfos::parse(
            r#"{"infos":[{"type":"unicast","details":[{"type":"k","detail":"v"}]}]}"#,
        );
        assert_eq!(
            i.details,
            vec![
                json!({"type":"k","detail":"v"}),
                json!({"type":"userId","detail":"100"})
            ]
        );
        assert!(i.hook_info().contains("\"userId\""));
        assert!(i.clear_backup_data);
        assert_eq!(BundleInfos::parse("not json"), BundleInfos::default());
    }

    #[test]
    fn broadcast_only_must_be_a_json_bool_and_mappings_are_read() {
        let i = BundleInfos::parse(
            r#"{"infos":[{"type":"broadcast","isBroadcastOnly":true,"details":[{"type":"app_mapping_relation","detail":[{"source":"com.old","target":"com.new"}]}]}],"clearBackupData":"false","backupScene":"s1"}"#,
        );
        assert!(i.broadcast_only);
        assert_eq!(i.target_of("com.old"), "com.new");
        assert_eq!(i.target_of("com.other"), "com.other");
        assert!(!i.clear_backup_data);
        assert_eq!(i.backup_scene.as_deref(), Some("s1"));
        let j = BundleInfos::parse(r#"{"infos":[{"type":"broadcast","isBroadcastOnly":"true"}]}"#);
        assert!(!j.broadcast_only);
    }
}
