//! How entries are laid out as Arrow rows in the LanceDB tables, and read back. Only the
//! store module sees this; everything above it works with `Entry`.

use std::sync::Arc;

use arrow_array::{
    Array, FixedSizeListArray, Float32Array, Int64Array, RecordBatch, RecordBatchIterator,
    RecordBatchReader, StringArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use super::{Result, StoreError};
use crate::memory::{AuditEvent, Entry, Evidence, Layer, Period, Step};
use crate::vector::DIMENSION;

/// Layer-specific and structured fields, stored as one JSON column: they are read back whole
/// and never filtered on inside LanceDB.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Extra {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    evidence: Option<Evidence>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    examples: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trigger: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    period: Option<Period>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    commits: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    history: Vec<AuditEvent>,
}

pub(super) fn table_name(layer: Layer) -> &'static str {
    match layer {
        Layer::Memory => "memories",
        Layer::Episode => "episodes",
        Layer::Procedure => "procedures",
        Layer::Pinned => "pinned",
    }
}

pub(super) fn entry_schema() -> SchemaRef {
    let utf8 = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        utf8("id", false),
        utf8("scope", false),
        utf8("layer", false),
        utf8("key", true),
        utf8("language", true),
        utf8("value", true),
        utf8("text", false),
        // What BM25 searches: the sentence plus the slot (`stack.async_runtime: tokio`) and
        // tags, so that "what is our stack" finds facts whose sentence never says "stack".
        utf8("search_text", false),
        Field::new(
            "vector",
            DataType::FixedSizeList(
                Arc::new(Field::new("item", DataType::Float32, true)),
                DIMENSION as i32,
            ),
            false,
        ),
        Field::new("importance", DataType::Float32, false),
        Field::new("confidence", DataType::Float32, false),
        Field::new("access_count", DataType::Int64, false),
        Field::new("created_at", DataType::Int64, false),
        Field::new("updated_at", DataType::Int64, false),
        Field::new("last_accessed_at", DataType::Int64, false),
        utf8("source", false),
        utf8("status", false),
        utf8("superseded_by", true),
        utf8("tags", false),
        utf8("extra", false),
    ]))
}

pub(super) fn meta_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
    ]))
}

/// Quotes a string for a Lance SQL filter.
pub(super) fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub(super) fn sql_in(column: &str, values: &[String]) -> String {
    let list: Vec<String> = values.iter().map(|v| sql_str(v)).collect();
    format!("{column} IN ({})", list.join(", "))
}

/// What BM25 matches: the sentence, the structured slot and the tags.
pub(super) fn search_text(e: &Entry) -> String {
    let mut s = e.slot_text();
    for tag in &e.tags {
        s.push(' ');
        s.push_str(tag);
    }
    s
}

pub(super) fn entries_to_batch(entries: &[&Entry]) -> Result<RecordBatch> {
    for e in entries {
        if e.vector.len() != DIMENSION {
            return Err(StoreError::Dimension {
                got: e.vector.len(),
            });
        }
    }
    let strings = |f: &dyn Fn(&Entry) -> String| {
        Arc::new(StringArray::from_iter_values(entries.iter().map(|e| f(e))))
    };
    let opt_strings = |f: &dyn Fn(&Entry) -> Option<String>| {
        Arc::new(StringArray::from_iter(entries.iter().map(|e| f(e))))
    };
    let ints = |f: &dyn Fn(&Entry) -> i64| {
        Arc::new(Int64Array::from_iter_values(entries.iter().map(|e| f(e))))
    };
    let floats = |f: &dyn Fn(&Entry) -> f32| {
        Arc::new(Float32Array::from_iter_values(entries.iter().map(|e| f(e))))
    };
    let vectors = FixedSizeListArray::from_iter_primitive::<arrow_array::types::Float32Type, _, _>(
        entries
            .iter()
            .map(|e| Some(e.vector.iter().map(|v| Some(*v)).collect::<Vec<_>>())),
        DIMENSION as i32,
    );
    let extra = |e: &Entry| {
        serde_json::to_string(&Extra {
            evidence: e.evidence,
            examples: e.examples.clone(),
            steps: e.steps.clone(),
            trigger: e.trigger.clone(),
            period: e.period,
            commits: e.commits,
            paths: e.paths.clone(),
            history: e.history.clone(),
        })
        .unwrap_or_else(|_| "{}".to_string())
    };
    let batch = RecordBatch::try_new(
        entry_schema(),
        vec![
            strings(&|e| e.id.clone()),
            strings(&|e| e.scope.clone()),
            strings(&|e| e.layer.as_str().to_string()),
            opt_strings(&|e| e.key.clone()),
            opt_strings(&|e| e.language.clone()),
            opt_strings(&|e| e.value.clone()),
            strings(&|e| e.text.clone()),
            strings(&search_text),
            Arc::new(vectors),
            floats(&|e| e.importance),
            floats(&|e| e.confidence),
            ints(&|e| i64::from(e.access_count)),
            ints(&|e| e.created_at),
            ints(&|e| e.updated_at),
            ints(&|e| e.last_accessed_at),
            strings(&|e| e.source.as_str().to_string()),
            strings(&|e| e.status.as_str().to_string()),
            opt_strings(&|e| e.superseded_by.clone()),
            strings(&|e| serde_json::to_string(&e.tags).unwrap_or_else(|_| "[]".into())),
            strings(&extra),
        ],
    )?;
    Ok(batch)
}

/// An entry read back, with the `_distance` and `_score` columns a search adds.
pub(super) type ReadRow = (Entry, Option<f32>, Option<f32>);
/// An entry with its (rank, score) in the vector leg and in the full-text leg.
pub(super) type Legs = (Entry, Option<(usize, f32)>, Option<(usize, f32)>);

/// Reads rows back into entries.
pub(super) fn batch_to_entries(batch: &RecordBatch, lossy: bool) -> Result<Vec<ReadRow>> {
    let column = |name: &str| batch.column_by_name(name);
    let string_col = |name: &str| -> Result<&StringArray> {
        column(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .ok_or_else(|| StoreError::Corrupt {
                id: String::new(),
                reason: format!("column `{name}` is missing or not text"),
            })
    };
    let i64_col = |name: &str| column(name).and_then(|c| c.as_any().downcast_ref::<Int64Array>());
    let f32_col = |name: &str| column(name).and_then(|c| c.as_any().downcast_ref::<Float32Array>());

    let ids = string_col("id")?;
    let scopes = string_col("scope")?;
    let layers = string_col("layer")?;
    let keys = string_col("key")?;
    let languages = string_col("language")?;
    let values = string_col("value")?;
    let texts = string_col("text")?;
    let sources = string_col("source")?;
    let statuses = string_col("status")?;
    let superseded = string_col("superseded_by")?;
    let tags = string_col("tags")?;
    let extras = string_col("extra")?;
    let importance = f32_col("importance");
    let confidence = f32_col("confidence");
    let access = i64_col("access_count");
    let created = i64_col("created_at");
    let updated = i64_col("updated_at");
    let accessed = i64_col("last_accessed_at");
    let vectors = column("vector").and_then(|c| c.as_any().downcast_ref::<FixedSizeListArray>());
    let distance = f32_col("_distance");
    let score = f32_col("_score");

    let opt = |a: &StringArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_string());
    let mut out = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let row = (|| -> Result<ReadRow> {
            let id = ids.value(i).to_string();
            let corrupt = |reason: String| StoreError::Corrupt {
                id: id.clone(),
                reason,
            };
            let extra: Extra = serde_json::from_str(extras.value(i))
                .map_err(|e| corrupt(format!("extra: {e}")))?;
            let vector = vectors
                .map(|v| {
                    let values = v.value(i);
                    values
                        .as_any()
                        .downcast_ref::<Float32Array>()
                        .map(|f| f.values().to_vec())
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            let entry = Entry {
                scope: scopes.value(i).to_string(),
                layer: layers
                    .value(i)
                    .parse()
                    .map_err(|e| corrupt(format!("{e}")))?,
                text: texts.value(i).to_string(),
                vector,
                importance: importance.map(|a| a.value(i)).unwrap_or(0.5),
                confidence: confidence.map(|a| a.value(i)).unwrap_or(0.5),
                access_count: access
                    .map(|a| a.value(i).clamp(0, u32::MAX as i64) as u32)
                    .unwrap_or(0),
                created_at: created.map(|a| a.value(i)).unwrap_or(0),
                updated_at: updated.map(|a| a.value(i)).unwrap_or(0),
                last_accessed_at: accessed.map(|a| a.value(i)).unwrap_or(0),
                source: sources
                    .value(i)
                    .parse()
                    .map_err(|e| corrupt(format!("{e}")))?,
                status: statuses
                    .value(i)
                    .parse()
                    .map_err(|e| corrupt(format!("{e}")))?,
                superseded_by: opt(superseded, i),
                tags: serde_json::from_str(tags.value(i))
                    .map_err(|e| corrupt(format!("tags: {e}")))?,
                key: opt(keys, i),
                language: opt(languages, i),
                value: opt(values, i),
                evidence: extra.evidence,
                examples: extra.examples,
                steps: extra.steps,
                trigger: extra.trigger,
                period: extra.period,
                commits: extra.commits,
                paths: extra.paths,
                history: extra.history,
                id,
            };
            let dist = distance.and_then(|d| (!d.is_null(i)).then(|| d.value(i)));
            let bm25 = score.and_then(|s| (!s.is_null(i)).then(|| s.value(i)));
            Ok((entry, dist, bm25))
        })();
        match row {
            Ok(row) => out.push(row),
            // One damaged row must not take every other memory with it: it is left out
            // (still on disk, untouched) and named in the log.
            Err(e) if lossy => tracing::warn!("skipping an unreadable stored entry: {e}"),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

pub(super) fn reader(batch: RecordBatch) -> Box<dyn RecordBatchReader + Send> {
    let schema = batch.schema();
    Box::new(RecordBatchIterator::new(vec![Ok(batch)], schema))
}
