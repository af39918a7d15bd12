//! Model parameters in safetensors files, under PyTorch's names.

use std::collections::HashMap;
use std::path::Path;

use super::{Backend, Parameters};
use crate::error::{Error, Result};

/// Writes a model's parameters to a safetensors file under PyTorch's names
/// (float32, row-major), with `metadata` as the header's string map;
/// missing parent folders are created.
pub fn save_safetensors<D: Backend, M: Parameters<D>>(
    model: &M,
    path: impl AsRef<Path>,
    metadata: HashMap<String, String>,
) -> Result<()> {
    let params = model.parameters();
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = params
        .iter()
        .map(|(name, p)| (name.clone(), p.shape(), p.values().iter().flat_map(|v| v.to_le_bytes()).collect()))
        .collect();
    let views = bytes
        .iter()
        .map(|(name, shape, data)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::ModelFile {
                    path: path.as_ref().to_path_buf(),
                    tensor: Some(name.clone()),
                    message: format!("cannot be written: {e:?}"),
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let meta = if metadata.is_empty() { None } else { Some(metadata) };
    if let Some(dir) = path.as_ref().parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
    }
    safetensors::tensor::serialize_to_file(views, &meta, path.as_ref())
        .map_err(|e| model_file(path.as_ref(), format!("cannot write: {e:?}")))
}

/// Reads parameters saved by [`save_safetensors`] or by PyTorch
/// (`safetensors.torch.save_file(model.state_dict(), …)`) into `model`.
/// Every parameter must be present as float32 with the model's shape;
/// extra tensors in the file are an error too (a different architecture).
/// Returns the file's metadata.
pub fn load_safetensors<D: Backend, M: Parameters<D>>(
    model: &mut M,
    path: impl AsRef<Path>,
) -> Result<HashMap<String, String>> {
    let file = WeightsFile::read(path.as_ref())?;
    file.fill(model)?;
    Ok(file.metadata)
}

/// A safetensors file read once: its bytes and its string metadata.
pub(crate) struct WeightsFile {
    path: std::path::PathBuf,
    bytes: Vec<u8>,
    pub(crate) metadata: HashMap<String, String>,
}

impl WeightsFile {
    pub(crate) fn read(path: &Path) -> Result<WeightsFile> {
        let bytes = std::fs::read(path).map_err(|e| Error::Io { path: path.to_path_buf(), source: e })?;
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| model_file(path, format!("not a safetensors file: {e:?}")))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        Ok(WeightsFile { path: path.to_path_buf(), bytes, metadata })
    }

    /// Copies every parameter of `model` from the file (see [`load_safetensors`]).
    pub(crate) fn fill<D: Backend, M: Parameters<D>>(&self, model: &mut M) -> Result<()> {
        let file = safetensors::SafeTensors::deserialize(&self.bytes)
            .map_err(|e| model_file(&self.path, format!("not a safetensors file: {e:?}")))?;
        let mut expected: Vec<String> = Vec::new();
        for (name, p) in model.parameters_mut() {
            let wrong =
                |message: String| Error::ModelFile { path: self.path.clone(), tensor: Some(name.clone()), message };
            let t = file.tensor(&name).map_err(|_| wrong(format!("is missing; the file holds {:?}", file.names())))?;
            if t.dtype() != safetensors::Dtype::F32 {
                return Err(wrong(format!("is {:?}, expected F32", t.dtype())));
            }
            if t.shape() != p.shape().as_slice() {
                return Err(wrong(format!("has shape {:?}, the model expects {:?}", t.shape(), p.shape())));
            }
            let values: Vec<f32> =
                t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            // A NaN or infinite weight (a damaged file, or one saved from a
            // diverged run) would make every prediction NaN.
            if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(wrong(format!("holds {v} at element {i}; a model's weights must be finite")));
            }
            p.set_values(&values)?;
            expected.push(name);
        }
        let mut extra: Vec<&String> = file.names().into_iter().filter(|n| !expected.contains(n)).collect();
        extra.sort();
        if let Some(first) = extra.first() {
            return Err(Error::ModelFile {
                path: self.path.clone(),
                tensor: Some((*first).clone()),
                message: format!("is not a parameter of the model (the file has extra tensors {extra:?})"),
            });
        }
        Ok(())
    }
}

fn model_file(path: &Path, message: String) -> Error {
    Error::ModelFile { path: path.to_path_buf(), tensor: None, message }
}
