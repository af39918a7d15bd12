//! Where networks train: the CPU, or a CUDA GPU in a build with the `cuda`
//! feature. [`Device::best`] picks the GPU when one answers and says why
//! when it does not; [`Device::cuda`] asks for one and fails with a typed
//! reason where it cannot work.

use std::fmt;

pub use crate::error::CudaUnavailable;
use crate::error::{Error, Result};

/// The device networks train on. The default is the CPU: each fit gets a
/// fresh [`training_cpu`](super::training_cpu) (allocation cache on), as a
/// GPU fit opens its own dfdx device, so settings cloned into several
/// strategies share no device state.
///
/// A model trained on a GPU is moved to the CPU when training ends (its
/// parameters are copied, the model is the same), so what `fit` returns and
/// how it predicts do not depend on where it trained.
#[derive(Clone, Debug, PartialEq)]
pub enum Device {
    /// dfdx's CPU device.
    Cpu,
    /// A CUDA GPU (`cuda` feature).
    #[cfg(feature = "cuda")]
    Cuda(Gpu),
}

impl Default for Device {
    fn default() -> Self {
        Device::cpu()
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Device {
    /// The CPU.
    pub fn cpu() -> Device {
        Device::Cpu
    }

    /// CUDA GPU number `ordinal`, checked to work: the driver starts, the
    /// GPU exists, a first kernel loads and runs. A typed
    /// [`Error::CudaUnavailable`] says why not otherwise — also in a build
    /// without the `cuda` feature.
    pub fn cuda(ordinal: usize) -> Result<Device> {
        let unavailable = |reason| Error::CudaUnavailable { ordinal, reason };
        #[cfg(feature = "cuda")]
        {
            Gpu::open(ordinal).map(Device::Cuda).map_err(unavailable)
        }
        #[cfg(not(feature = "cuda"))]
        {
            Err(unavailable(CudaUnavailable::FeatureOff))
        }
    }

    /// GPU 0 when [`cuda`](Self::cuda) gives it, else the CPU with a note
    /// saying why, printed where the notebook shows it (standard output;
    /// evcxr reports errors on standard error).
    pub fn best() -> Device {
        match Device::cuda(0) {
            Ok(d) => d,
            Err(e) => {
                println!("note: training on the CPU: {e}");
                Device::cpu()
            }
        }
    }

    /// Whether this is a GPU.
    pub fn is_gpu(&self) -> bool {
        !matches!(self, Device::Cpu)
    }

    fn describe(&self) -> String {
        match self {
            Device::Cpu => "CPU".to_string(),
            #[cfg(feature = "cuda")]
            Device::Cuda(g) => {
                format!("CUDA GPU {} ({}, sm_{}, driver CUDA {})", g.ordinal, g.name, g.capability, g.driver)
            }
        }
    }
}

#[cfg(feature = "cuda")]
pub use gpu::Gpu;

#[cfg(feature = "cuda")]
mod gpu {
    use cudarc::driver::{result, sys, DriverError};
    use dfdx::prelude::*;

    use super::CudaUnavailable;

    /// The CUDA toolkit the kernels were compiled with, as the driver API
    /// numbers versions (13000 = 13.0), where the build recorded it
    /// (tools/cuda.sh sets ASSETALLOC_CUDA_TOOLKIT).
    const TOOLKIT: Option<&str> = option_env!("ASSETALLOC_CUDA_TOOLKIT");

    /// A CUDA GPU checked to work, and what the driver says of it. dfdx's
    /// device is opened for each training ([`dfdx`](Self::dfdx)): it holds
    /// a CUDA stream, which may not move between threads, while a `Gpu`
    /// travels with the settings of a strategy the backtest runs on its
    /// worker threads.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Gpu {
        pub(super) ordinal: usize,
        pub(super) name: String,
        pub(super) capability: String,
        pub(super) driver: String,
    }

    fn version(v: i32) -> String {
        format!("{}.{}", v / 1000, (v % 1000) / 10)
    }

    fn code(e: &DriverError) -> String {
        format!("{:?}", e.0)
    }

    impl Gpu {
        /// dfdx's device on this GPU, for `fit_on` and tensors.
        pub fn dfdx(&self) -> crate::error::Result<Cuda> {
            Cuda::try_build(self.ordinal, 0).map_err(|e| crate::error::Error::CudaUnavailable {
                ordinal: self.ordinal,
                reason: CudaUnavailable::Failed { message: format!("{e:?}") },
            })
        }

        /// The GPU's name, as the driver gives it.
        pub fn name(&self) -> &str {
            &self.name
        }

        pub(super) fn open(ordinal: usize) -> Result<Gpu, CudaUnavailable> {
            // cudarc's CudaDevice::new unwraps these two calls; asking first
            // turns their failures into reasons instead of panics.
            result::init().map_err(|e| CudaUnavailable::NoDriver { code: code(&e) })?;
            let count = result::device::get_count().map_err(|e| CudaUnavailable::NoDriver { code: code(&e) })? as usize;
            if ordinal >= count {
                return Err(CudaUnavailable::NoSuchDevice { ordinal, count });
            }
            let mut driver = 0i32;
            // SAFETY: the driver writes one int through the pointer.
            unsafe { sys::cuDriverGetVersion(&mut driver) }
                .result()
                .map_err(|e| CudaUnavailable::NoDriver { code: code(&e) })?;
            if let Some(toolkit) = TOOLKIT.and_then(|t| t.parse::<i32>().ok()) {
                if driver < toolkit {
                    return Err(CudaUnavailable::DriverTooOld { driver: version(driver), toolkit: version(toolkit) });
                }
            }
            let failed = |e: &dyn std::fmt::Debug| CudaUnavailable::Failed { message: format!("{e:?}") };
            let cu = result::device::get(ordinal as i32).map_err(|e| failed(&e))?;
            let mut name = [0i8; 256];
            // SAFETY: the driver writes at most `len` bytes, NUL-terminated.
            unsafe { sys::cuDeviceGetName(name.as_mut_ptr(), name.len() as i32, cu) }
                .result()
                .map_err(|e| failed(&e))?;
            // SAFETY: NUL-terminated above.
            let name = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }.to_string_lossy().into_owned();
            let attr = |a| unsafe { result::device::get_attribute(cu, a) };
            let major =
                attr(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR).map_err(|e| failed(&e))?;
            let minor =
                attr(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR).map_err(|e| failed(&e))?;
            let dev = Cuda::try_build(ordinal, 0).map_err(|e| failed(&e))?;
            // A first kernel: loading dfdx's PTX is where a driver older
            // than the toolkit refuses.
            let probe = || -> Result<Vec<f32>, CudaError> {
                let a: Tensor<(usize, usize), f32, Cuda> = dev.try_tensor_from_vec(vec![1.0, 2.0, 3.0, 4.0], (2, 2))?;
                Ok(a.clone().try_matmul(a.clone())?.try_add(a)?.as_vec())
            };
            match probe() {
                Ok(v) if v == [8.0, 12.0, 18.0, 26.0] => {}
                Ok(v) => {
                    return Err(CudaUnavailable::Failed {
                        message: format!("a 2×2 check gave {v:?}, expected [8, 12, 18, 26]"),
                    })
                }
                Err(CudaError::Driver(DriverError(sys::CUresult::CUDA_ERROR_UNSUPPORTED_PTX_VERSION))) => {
                    let toolkit = TOOLKIT.and_then(|t| t.parse::<i32>().ok()).map_or("newer".to_string(), version);
                    return Err(CudaUnavailable::DriverTooOld { driver: version(driver), toolkit });
                }
                Err(e) => return Err(failed(&e)),
            }
            Ok(Gpu { ordinal, name, capability: format!("{major}{minor}"), driver: version(driver) })
        }
    }
}
