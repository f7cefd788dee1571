//! `Values`: interns register values as `u32` ids (id 0 is null, the initial value).

use std::collections::HashMap;

use crate::history::Value;

#[derive(Debug, Clone)]
pub struct Values {
    ids: HashMap<Value, u32>,
    values: Vec<Value>,
}

impl Default for Values {
    fn default() -> Self {
        let mut v = Values {
            ids: HashMap::new(),
            values: Vec::new(),
        };
        v.intern(&Value::Null);
        v
    }
}

impl Values {
    pub const NULL: u32 = 0;

    pub fn intern(&mut self, value: &Value) -> u32 {
        if let Some(&id) = self.ids.get(value) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(value.clone());
        self.ids.insert(value.clone(), id);
        id
    }

    pub fn get(&self, id: u32) -> &Value {
        &self.values[id as usize]
    }
}
