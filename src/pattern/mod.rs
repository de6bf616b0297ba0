// TEMPORARY stub for type-checking; replaced by the real engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern(String);
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("at byte {position}: expected {expected}, found {found}")]
pub struct ParseError { pub position: usize, pub expected: String, pub found: String }
pub fn parse(s: &str) -> Result<Pattern, ParseError> { Ok(Pattern(s.to_string())) }
impl Pattern {
    pub fn matches(&self, _e: &serde_json::Value) -> bool { false }
    pub fn canonical(&self) -> String { self.0.clone() }
    pub fn display_lines(&self) -> Vec<String> { vec![self.0.clone()] }
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation { Equivalent, Covers, Weaker, Different }
impl Relation { pub fn satisfies(self) -> bool { matches!(self, Relation::Equivalent | Relation::Covers) } }
pub fn compare(a: &Pattern, b: &Pattern) -> Relation { if a == b { Relation::Equivalent } else { Relation::Different } }
