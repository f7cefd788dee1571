//! Key interning for parsers: every event on the same key shares one `Arc<str>`.

use std::collections::HashMap;
use std::sync::Arc;

#[derive(Default)]
pub(crate) struct Keys {
    map: HashMap<Box<str>, Arc<str>>,
}

impl Keys {
    pub(crate) fn intern(&mut self, key: &str) -> Arc<str> {
        if let Some(k) = self.map.get(key) {
            return k.clone();
        }
        let k: Arc<str> = Arc::from(key);
        self.map.insert(key.into(), k.clone());
        k
    }
}
