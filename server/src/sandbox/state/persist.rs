//! The sandbox's state file at work: read back at start (each key's space,
//! its jobs due again on the wall clock, its sessions' client secrets
//! indexed), written through as requests and the clock change spaces, and
//! the few settings kept beside them. Without a file (`SANDBOX_DATABASE_URL=memory`,
//! and tests) all of this does nothing.

use super::store::Store;
use super::{stored, Sandbox, Space};
use crate::sandbox::config::StateFile;
use std::path::Path;

impl Sandbox {
    /// Keeps the sandbox's state in `file` (nothing, for [`StateFile::Memory`]):
    /// opens it and reads back every key it holds, within [`super::Limits`]
    /// (the least recently written go first). A key whose row cannot be read
    /// (a file from another version) starts empty, with a warning.
    pub async fn with_state_file(mut self, file: &StateFile) -> Result<Self, String> {
        let StateFile::Sqlite(path) = file else {
            return Ok(self);
        };
        let store = Store::open(path).await?;
        let rows = store
            .load()
            .await
            .map_err(|e| format!("sandbox state file {}: {e}", path.display()))?;
        self.store = Some(store);
        let (mut read, mut unreadable) = (0, 0);
        {
            let mut st = self.lock();
            for row in rows {
                let mut space: Space = match serde_json::from_str(&row.data) {
                    Ok(space) => space,
                    Err(e) => {
                        tracing::warn!(error = %e, "a key's sandbox state could not be read; it starts empty");
                        st.removed.insert(row.key);
                        unreadable += 1;
                        continue;
                    }
                };
                space.restore(self.limits);
                while st.spaces.len() >= self.limits.max_keys {
                    let Some(old) = st.evictable("") else { break };
                    st.forget(&old);
                }
                for s in space.sessions.values() {
                    st.secrets.insert(s.client_secret.clone(), (row.key.clone(), s.id.clone()));
                }
                st.spaces.insert(row.key.clone(), space);
                self.touch(&mut st, &row.key);
                self.settle(&mut st, &row.key);
                read += 1;
            }
        }
        tracing::info!(file = %path.display(), keys = read, unreadable, "sandbox state read");
        self.flush().await;
        Ok(self)
    }

    /// The state file, if the sandbox keeps one.
    pub fn state_file(&self) -> Option<&Path> {
        self.store.as_ref().map(Store::path)
    }

    /// Writes every space changed since the last write (and forgets the
    /// forgotten) in the state file; returns once they are written. A write
    /// that fails is logged and tried again by the next one.
    pub async fn flush(&self) {
        let Some(store) = &self.store else {
            return;
        };
        let _turn = self.flushing.lock().await;
        let (writes, deletes) = {
            let mut st = self.lock();
            let dirty = std::mem::take(&mut st.dirty);
            let deletes: Vec<String> = std::mem::take(&mut st.removed).into_iter().collect();
            let mut writes = Vec::with_capacity(dirty.len());
            for key in dirty {
                let Some(space) = st.spaces.get(&key) else { continue };
                match serde_json::to_string(space) {
                    Ok(json) => writes.push((key, json)),
                    Err(e) => tracing::error!(error = %e, "a key's sandbox state could not be serialised"),
                }
            }
            (writes, deletes)
        };
        if writes.is_empty() && deletes.is_empty() {
            return;
        }
        if let Err(e) = store.write(&writes, &deletes, stored::unix_ms_now()).await {
            tracing::error!(error = %e, file = %store.path().display(), "could not write the sandbox's state file; the next change tries again");
            let mut st = self.lock();
            for (key, _) in writes {
                if st.spaces.contains_key(&key) {
                    st.dirty.insert(key);
                }
            }
            for key in deletes {
                if !st.spaces.contains_key(&key) {
                    st.removed.insert(key);
                }
            }
        }
    }

    /// The setting `name` kept in the state file, made by `fresh` (and kept)
    /// the first time; without a file, `fresh()` every start.
    pub async fn setting(&self, name: &str, fresh: impl FnOnce() -> String) -> Result<String, String> {
        match &self.store {
            None => Ok(fresh()),
            Some(store) => store
                .setting(name, fresh)
                .await
                .map_err(|e| format!("sandbox state file {}: {e}", store.path().display())),
        }
    }

    /// Writes what is left and closes the state file, so another sandbox
    /// (the next start) can open it.
    pub async fn close(&self) {
        self.flush().await;
        if let Some(store) = &self.store {
            store.close().await;
        }
    }
}
