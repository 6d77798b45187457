//! Reading JSON into our types: the presets (the web build's, converted from TOML by build.rs)
//! and the live feed's messages.
//!
//! Natively this is serde_json. In the page it is the browser's own `JSON.parse`, read into the
//! same serde types by serde-wasm-bindgen: the page then carries no JSON parser of its own
//! (serde_json was ~17 KB of the gzipped page, README "Benchmarks"). Both paths run the same
//! `Deserialize` impls, so a message means the same thing to either.

use serde::de::DeserializeOwned;

/// A parsed JSON document, kept to ask which keys it has (`has_key`).
#[cfg(not(target_arch = "wasm32"))]
pub struct Document(serde_json::Value);
#[cfg(target_arch = "wasm32")]
pub struct Document(wasm_bindgen::JsValue);

/// Why a text could not be read: the message, and the line when the parser knows it.
#[derive(Debug)]
pub struct JsonError {
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Parses `text` as JSON.
pub fn parse(text: &str) -> Result<Document, JsonError> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        serde_json::from_str(text)
            .map(Document)
            .map_err(|e| JsonError {
                line: Some(e.line()),
                message: e.to_string(),
            })
    }
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::JSON::parse(text)
            .map(Document)
            .map_err(|e| JsonError {
                line: None,
                message: js_sys::Error::from(e)
                    .message()
                    .as_string()
                    .unwrap_or_else(|| "not JSON".into()),
            })
    }
}

/// Parses `text` as JSON and reads it as a `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    parse(text)?.read()
}

impl Document {
    /// Reads the document as a `T`.
    pub fn read<T: DeserializeOwned>(&self) -> Result<T, JsonError> {
        #[cfg(not(target_arch = "wasm32"))]
        {
            T::deserialize(&self.0).map_err(|e| JsonError {
                line: None,
                message: e.to_string(),
            })
        }
        #[cfg(target_arch = "wasm32")]
        {
            serde_wasm_bindgen::from_value(self.0.clone()).map_err(|e| JsonError {
                line: None,
                message: e.to_string(),
            })
        }
    }

    /// Whether the object at `table` (a top-level key) has the key `key`.
    pub fn has_key(&self, table: &str, key: &str) -> bool {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.0.get(table).and_then(|t| t.get(key)).is_some()
        }
        #[cfg(target_arch = "wasm32")]
        {
            use js_sys::Reflect;
            use wasm_bindgen::JsValue;
            Reflect::get(&self.0, &JsValue::from_str(table))
                .ok()
                .filter(|t| t.is_object())
                .and_then(|t| Reflect::has(&t, &JsValue::from_str(key)).ok())
                .unwrap_or(false)
        }
    }
}
