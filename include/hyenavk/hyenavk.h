/* hyenavk: Striped Hyena sequence models on any Vulkan 1.1 device. The C ABI.
 *
 * A stable C interface to the same library as hyenavk.hpp, for programs in C and for hosts that load hyenavk
 * through a foreign-function interface (game engines, Python, C#). docs/c-api.md has a walk-through.
 *
 * Conventions
 *   - Objects are opaque handles made by *_create / *_load and released by *_destroy (NULL is ignored).
 *   - Every function that can fail returns a hyenavk_status; HYENAVK_OK is 0. On failure,
 *     hyenavk_last_error_message() names the problem, for the calling thread, until its next failing call.
 *     No C++ exception ever crosses this interface, and nothing runs when the library is loaded.
 *   - Option and information structs begin with `struct_size`: set it to sizeof the struct you compiled
 *     against (the *_init functions do, and fill in the defaults). The library reads and writes only the
 *     first struct_size bytes, so a program built against an older header keeps working with a newer
 *     library; members are only ever added at the end.
 *   - Strings are UTF-8 and NUL-terminated. Strings the library returns stay valid as long as the object
 *     they came from (or, for static strings, forever).
 *
 * Thread safety
 *   - Every function may be called from any thread, also at once on the same context, model or completion,
 *     except that an object must not be used during or after its *_destroy.
 *   - Building a shape's plan (its first submit or forward, or hyenavk_model_prepare) holds one lock per
 *     model; submitting a prepared shape never waits for it, so a frame thread can submit while
 *     hyenavk_model_prepare_async builds the next shape on the model's worker thread.
 *   - The log callback is called from whichever thread triggered the message.
 *
 * Versioning: see hyenavk/version.h. hyenavk_version() is the version of the library actually loaded. */
#ifndef HYENAVK_H
#define HYENAVK_H

#include <stddef.h>
#include <stdint.h>

#include <vulkan/vulkan_core.h> /* handle types for hosts that lend their device; no function is called */

#include "hyenavk/export.h"
#include "hyenavk/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status and versions ---------------------------------------------------------------------------- */

typedef enum hyenavk_status {
    HYENAVK_OK = 0,
    HYENAVK_ERROR_INVALID_ARGUMENT = 1, /* a caller's value is out of range or inconsistent */
    HYENAVK_ERROR_NOT_FOUND = 2,        /* a named device, tensor, file or key does not exist */
    HYENAVK_ERROR_UNSUPPORTED = 3,      /* the device lacks a feature or extension that was asked for */
    HYENAVK_ERROR_DEVICE_LIMIT = 4,     /* a size exceeds a device limit */
    HYENAVK_ERROR_OUT_OF_MEMORY = 5,    /* host or device memory ran out (or the memory budget) */
    HYENAVK_ERROR_DEVICE_LOST = 6,      /* the device was lost; the context cannot be used any more */
    HYENAVK_ERROR_TIMEOUT = 7,          /* a wait on the GPU exceeded its timeout */
    HYENAVK_ERROR_VULKAN = 8,           /* any other failing Vulkan call (the message names it) */
    HYENAVK_ERROR_IO = 9,               /* reading or writing a file failed */
    HYENAVK_ERROR_FORMAT = 10,          /* a file or value is malformed */
    HYENAVK_ERROR_INTERNAL = 11         /* a broken invariant inside hyenavk */
} hyenavk_status;

/* HYENAVK_MAKE_VERSION of the library loaded at run time, and the same as text ("0.2.0"). */
HYENAVK_API uint32_t hyenavk_version(void);
HYENAVK_API const char* hyenavk_version_string(void);
/* The status's name ("HYENAVK_ERROR_NOT_FOUND"); static. */
HYENAVK_API const char* hyenavk_status_name(hyenavk_status status);
/* What the calling thread's last failing call said; "" if none has failed. Valid until that thread's next
 * failing call. */
HYENAVK_API const char* hyenavk_last_error_message(void);

/* ---- Devices ------------------------------------------------------------------------------------------ */

typedef enum hyenavk_device_type {
    HYENAVK_DEVICE_OTHER = 0,
    HYENAVK_DEVICE_INTEGRATED_GPU = 1,
    HYENAVK_DEVICE_DISCRETE_GPU = 2,
    HYENAVK_DEVICE_VIRTUAL_GPU = 3,
    HYENAVK_DEVICE_CPU = 4
} hyenavk_device_type;

typedef struct hyenavk_device_info {
    uint32_t struct_size;
    uint32_t index; /* position in hyenavk_list_devices */
    char name[256];
    hyenavk_device_type type;
    uint32_t vendor_id, device_id;
    char driver_name[256]; /* "llvmpipe", "NVIDIA"; empty where the driver does not say */
    char driver_info[256];
    uint32_t api_version;  /* the Vulkan version hyenavk uses on the device */
    uint64_t device_local_memory;
    uint64_t max_storage_buffer_range;
    uint32_t subgroup_size;
    uint32_t storage_buffer_16bit; /* 1: fp16 storage (HYENAVK_PRECISION_FP16) works */
    uint32_t timeline_semaphore;
    uint32_t timestamps;           /* compute-queue timestamp queries */
} hyenavk_device_info;
HYENAVK_API void hyenavk_device_info_init(hyenavk_device_info* info);

typedef enum hyenavk_log_level {
    HYENAVK_LOG_DEBUG = 0,
    HYENAVK_LOG_INFO = 1,
    HYENAVK_LOG_WARNING = 2,
    HYENAVK_LOG_ERROR = 3
} hyenavk_log_level;
/* Receives driver and validation-layer messages. NULL: warnings and errors go to stderr. */
typedef void (*hyenavk_log_fn)(void* user_data, hyenavk_log_level level, const char* message);

/* Vulkan-style enumeration: with devices NULL, *count receives the number of devices; otherwise up to *count
 * entries are filled (each entry's struct_size set by the caller, e.g. by hyenavk_device_info_init) and *count
 * receives the number written. validation: 1 loads the Khronos validation layer. */
HYENAVK_API hyenavk_status hyenavk_list_devices(int validation, hyenavk_log_fn log, void* log_user_data,
                                                hyenavk_device_info* devices, uint32_t* count);

/* ---- Contexts ----------------------------------------------------------------------------------------- */

typedef struct hyenavk_context_t* hyenavk_context;

typedef struct hyenavk_context_options {
    uint32_t struct_size;
    /* NULL or "": the default device (discrete, then integrated, then virtual GPU, then CPU); a decimal
     * number: that index; anything else: a case-insensitive part of exactly one device's name. */
    const char* device;
    uint32_t validation; /* 1: the Khronos validation layer, its messages counted and logged (for tests) */
    hyenavk_log_fn log;
    void* log_user_data;
    uint64_t fence_timeout_ns;     /* longest wait for one submission (default 600 s) */
    uint64_t max_submission_work;  /* most estimated operations per queue submission (default 2e9; 0: no bound) */
    uint64_t memory_budget_bytes;  /* device memory hyenavk may hold (0: what the device offers; more than the
                                    * device has, or on a CPU device the host, is clamped to it with a warning) */
    const char* cache_dir;         /* compiled-kernel cache (NULL or "": $XDG_CACHE_HOME/hyenavk) */
    uint32_t disk_cache;           /* 0: neither read nor write the cache (default 1) */
    uint32_t profile_kernels;      /* 1: GPU timestamps after every command (hyenavk_context_kernel_times) */
} hyenavk_context_options;
HYENAVK_API void hyenavk_context_options_init(hyenavk_context_options* options);

/* options NULL: the defaults. */
HYENAVK_API hyenavk_status hyenavk_context_create(const hyenavk_context_options* options, hyenavk_context* context);

/* A device the host application created (a renderer, say). hyenavk uses it and never destroys it; the host
 * keeps it alive until the context is destroyed. */
typedef struct hyenavk_borrowed_device {
    uint32_t struct_size;
    VkInstance instance;
    uint32_t instance_api_version; /* the apiVersion the host created its instance with (>= 1.1) */
    VkPhysicalDevice physical_device;
    VkDevice device;
    uint32_t queue_family_index; /* must support compute */
    VkQueue queue;
    /* Called around every vkQueueSubmit hyenavk makes on `queue`, for hosts that submit to it from other
     * threads. Both or neither. */
    void (*lock_queue)(void* user_data);
    void (*unlock_queue)(void* user_data);
    void* queue_lock_user_data;
    /* Device extensions and features the host enabled; hyenavk uses only those listed. */
    uint32_t enabled_extension_count;
    const char* const* enabled_extensions;
    uint32_t storage_buffer_16bit_enabled;
    uint32_t shader_float16_enabled;
    uint32_t storage_buffer_8bit_enabled;
    uint32_t shader_int8_enabled;
    uint32_t timeline_semaphore_enabled;
} hyenavk_borrowed_device;
HYENAVK_API void hyenavk_borrowed_device_init(hyenavk_borrowed_device* device);

/* What hyenavk would like a host to enable on a device it will lend: the device extensions (only those the
 * device supports) and features (only those it has). All optional: hyenavk runs on plain Vulkan 1.1 and uses
 * whatever is enabled. */
#define HYENAVK_MAX_SETUP_EXTENSIONS 16
typedef struct hyenavk_device_setup {
    uint32_t struct_size;
    uint32_t api_version; /* the version the device will be used as */
    uint32_t extension_count;
    char extensions[HYENAVK_MAX_SETUP_EXTENSIONS][VK_MAX_EXTENSION_NAME_SIZE];
    uint32_t storage_buffer_16bit;
    uint32_t shader_float16;
    uint32_t storage_buffer_8bit;
    uint32_t shader_int8;
    uint32_t timeline_semaphore;
} hyenavk_device_setup;
HYENAVK_API void hyenavk_device_setup_init(hyenavk_device_setup* setup);
/* instance_api_version: the apiVersion the host creates its instance with; below 1.2, features promoted to
 * core in 1.2 come with the extensions that provide them. */
HYENAVK_API hyenavk_status hyenavk_required_device_setup(VkInstance instance, VkPhysicalDevice physical_device,
                                                         uint32_t instance_api_version, hyenavk_device_setup* setup);

HYENAVK_API hyenavk_status hyenavk_context_borrow(const hyenavk_borrowed_device* device,
                                                  const hyenavk_context_options* options, hyenavk_context* context);
HYENAVK_API void hyenavk_context_destroy(hyenavk_context context);
HYENAVK_API hyenavk_status hyenavk_context_device(hyenavk_context context, hyenavk_device_info* info);
/* Validation-layer messages at warning or error level since the context was made. */
HYENAVK_API uint64_t hyenavk_context_validation_message_count(hyenavk_context context);

/* Fault injection, for testing how an application copes with a lost device or exhausted device memory on any
   machine (hyenavk::inject_fault in diagnostics.hpp says more). Armed once, taken by the next operation of its
   kind: DEVICE_LOST fails the next queue submission with HYENAVK_ERROR_DEVICE_LOST and the context is lost from
   then on (every later call that needs the device fails the same way; destroying its objects is safe; create a
   new context to go on). OUT_OF_DEVICE_MEMORY fails the next device-memory allocation with
   HYENAVK_ERROR_OUT_OF_MEMORY; the context stays usable. */
typedef enum hyenavk_fault {
    HYENAVK_FAULT_DEVICE_LOST = 0,
    HYENAVK_FAULT_OUT_OF_DEVICE_MEMORY = 1
} hyenavk_fault;
HYENAVK_API hyenavk_status hyenavk_context_inject_fault(hyenavk_context context, hyenavk_fault fault);

/* ---- Models ------------------------------------------------------------------------------------------- */

typedef struct hyenavk_model_t* hyenavk_model;

typedef enum hyenavk_precision {
    HYENAVK_PRECISION_FP32 = 0,
    HYENAVK_PRECISION_FP16 = 1 /* weights and activations stored in 16 bits; needs storage_buffer_16bit */
} hyenavk_precision;

typedef struct hyenavk_load_options {
    uint32_t struct_size;
    const char* config_json;  /* NULL or "": the file's own config; else a JSON object merged over it */
    uint32_t check_finite;    /* reject NaN and Inf in weights and inputs (default 1) */
    hyenavk_precision precision;
    uint64_t spectrum_cache_bytes; /* most memory cached filter spectra may take (0: the budget's limit) */
} hyenavk_load_options;
HYENAVK_API void hyenavk_load_options_init(hyenavk_load_options* options);

/* Loads a model file (safetensors with its config in the metadata). options NULL: the defaults. The context
 * must outlive the model. HYENAVK_ERROR_OUT_OF_MEMORY, before the weights are read, where the weights or the
 * filters made from them would not fit the budget, or the weights the host's memory. */
HYENAVK_API hyenavk_status hyenavk_model_load(hyenavk_context context, const char* path,
                                              const hyenavk_load_options* options, hyenavk_model* model);
HYENAVK_API void hyenavk_model_destroy(hyenavk_model model);

typedef struct hyenavk_model_info {
    uint32_t struct_size;
    char arch[64];             /* "striped_hyena", "hyena_operator" */
    uint64_t parameter_count;
    uint32_t input_features;   /* the last axis of an input */
    uint32_t output_features;  /* the last axis of an output */
    uint32_t default_length;   /* window_size, or l_max */
} hyenavk_model_info;
HYENAVK_API void hyenavk_model_info_init(hyenavk_model_info* info);
HYENAVK_API hyenavk_status hyenavk_model_info_get(hyenavk_model model, hyenavk_model_info* info);
/* The effective config as JSON, valid until the model is destroyed. NULL where model is NULL. */
HYENAVK_API const char* hyenavk_model_config_json(hyenavk_model model);

/* Floats a forward of this shape writes: batch * output_features for the last step, batch * length *
 * output_features with full_sequence (or for architectures that always return the sequence).
 * HYENAVK_ERROR_INVALID_ARGUMENT for batch or length 0, a length the model does not take, or a shape whose
 * input or output bytes do not fit 64 bits. */
HYENAVK_API hyenavk_status hyenavk_model_output_count(hyenavk_model model, uint32_t batch, uint32_t length,
                                                      uint32_t full_sequence, uint64_t* count);

/* Runs the model: input is [batch, length, input_features] row-major (input_count floats), output receives
 * hyenavk_model_output_count floats (output_count must be at least that). The first call for a shape builds
 * its plan; later calls replay it. Nothing is written to output on failure. */
HYENAVK_API hyenavk_status hyenavk_model_forward(hyenavk_model model, const float* input, uint64_t input_count,
                                                 uint32_t batch, uint32_t length, uint32_t full_sequence,
                                                 float* output, uint64_t output_count);

/* ---- Asynchronous forwards on the host's buffers ---------------------------------------------------------- */

typedef struct hyenavk_completion_t* hyenavk_completion;

/* One forward for hyenavk_model_submit. The input comes from exactly one of `input` (host memory, copied
 * before submit returns) and `input_buffer`; the output goes to exactly one of `output` (host memory,
 * written by hyenavk_completion_wait, so it must stay valid until then) and `output_buffer`. Buffers are
 * VkBuffers the host owns on the device of a borrowed context (TRANSFER_SRC usage to be read, TRANSFER_DST
 * to be written) holding packed fp32 values from their offset (a multiple of 4); they need an fp32 model and
 * skip the finite-value check. Semaphores are the host's: binary, or timeline with a value where the context
 * uses timeline semaphores (hyenavk_completion_timeline gives a non-null semaphore). */
typedef struct hyenavk_forward_request {
    uint32_t struct_size;
    uint32_t batch;
    uint32_t length;
    uint32_t full_sequence;
    const float* input;      /* [batch, length, input_features] */
    uint64_t input_count;
    VkBuffer input_buffer;
    uint64_t input_offset;
    float* output;           /* room for hyenavk_model_output_count floats */
    uint64_t output_count;
    VkBuffer output_buffer;
    uint64_t output_offset;
    VkSemaphore wait_semaphore;   /* waited for before the input is read; VK_NULL_HANDLE: none */
    uint64_t wait_value;
    VkSemaphore signal_semaphore; /* signalled once the output is written; VK_NULL_HANDLE: none */
    uint64_t signal_value;
} hyenavk_forward_request;
HYENAVK_API void hyenavk_forward_request_init(hyenavk_forward_request* request);

/* Queues the forward after any work already queued and returns without waiting for it. The first submit of
 * a shape builds its plan first (milliseconds to seconds): prepare shapes ahead of time to keep that off a
 * frame thread. completion may be NULL where the output goes to a buffer and the host needs no handle. */
HYENAVK_API hyenavk_status hyenavk_model_submit(hyenavk_model model, const hyenavk_forward_request* request,
                                                hyenavk_completion* completion);
/* 1 once the device has finished the forward, else 0; never blocks (0 for NULL). */
HYENAVK_API int hyenavk_completion_ready(hyenavk_completion completion);
/* Waits until the forward is finished and its host output written; HYENAVK_ERROR_TIMEOUT once timeout_ns
 * has passed (the forward goes on: wait again later). */
HYENAVK_API hyenavk_status hyenavk_completion_wait(hyenavk_completion completion, uint64_t timeout_ns);
/* The context's timeline semaphore and the value it reaches when the forward is done, to wait on in the
 * host's vkQueueSubmit; VK_NULL_HANDLE and 0 where the device has no timeline semaphores. */
HYENAVK_API hyenavk_status hyenavk_completion_timeline(hyenavk_completion completion, VkSemaphore* semaphore,
                                                       uint64_t* value);
/* Releases the handle; the forward itself goes on (its host output is then never written). */
HYENAVK_API void hyenavk_completion_destroy(hyenavk_completion completion);

/* Builds the plan, FFT plans and pipelines of a shape now, on the calling thread. */
HYENAVK_API hyenavk_status hyenavk_model_prepare(hyenavk_model model, uint32_t batch, uint32_t length,
                                                 uint32_t full_sequence);
/* The same on the model's worker thread; returns at once. A submit of the shape meanwhile waits for the
 * build; a build that failed is tried again by that submit, which reports the error. */
HYENAVK_API hyenavk_status hyenavk_model_prepare_async(hyenavk_model model, uint32_t batch, uint32_t length,
                                                       uint32_t full_sequence);
/* 1 where the shape's plan is built, else 0. */
HYENAVK_API int hyenavk_model_prepared(hyenavk_model model, uint32_t batch, uint32_t length,
                                       uint32_t full_sequence);
/* Waits until every forward submitted so far is finished. */
HYENAVK_API hyenavk_status hyenavk_model_wait_idle(hyenavk_model model);

/* ---- Streams: one new frame per push, for many agents at once ----------------------------------------- */

typedef struct hyenavk_stream_set_t* hyenavk_stream_set;

typedef enum hyenavk_stream_mode {
    /* Each push returns, per stream, the last-step output of a whole forward over every frame the stream was
     * given since it started or was reset, from per-layer caches: a push costs one frame of dense work per
     * stream plus O(taps) per long convolution, however long the history. */
    HYENAVK_STREAM_INCREMENTAL = 0,
    /* Each push returns, per stream, the output of a whole forward over the stream's last `window` frames
     * (over all of them while it has fewer), what a model trained on fixed windows expects. The frames stay
     * in a ring on the device: a push uploads one frame per stream, never the window. */
    HYENAVK_STREAM_WINDOWED = 1
} hyenavk_stream_mode;

typedef struct hyenavk_stream_options {
    uint32_t struct_size;
    uint32_t streams; /* independent streams (agents), all pushed together (default 1) */
    hyenavk_stream_mode mode;
    uint32_t window; /* HYENAVK_STREAM_WINDOWED: frames per forward (0: the model's window_size) */
} hyenavk_stream_options;
HYENAVK_API void hyenavk_stream_options_init(hyenavk_stream_options* options);

/* A stream set of a striped_hyena model stored in fp32; the model must outlive it. A set is used from one
 * thread at a time. HYENAVK_ERROR_DEVICE_LIMIT or OUT_OF_MEMORY, before anything is allocated, where streams x
 * (taps, window) would not fit the device or the budget. */
HYENAVK_API hyenavk_status hyenavk_stream_set_create(hyenavk_model model, const hyenavk_stream_options* options,
                                                     hyenavk_stream_set* set);
HYENAVK_API void hyenavk_stream_set_destroy(hyenavk_stream_set set);
/* frames: [streams, input_features] (frame_count floats), one new frame per stream; output receives
 * [streams, output_features] (output_count must be at least that). NaN and Inf in frames are refused with their
 * position unless the model was loaded with check_finite = 0. */
HYENAVK_API hyenavk_status hyenavk_stream_set_push(hyenavk_stream_set set, const float* frames, uint64_t frame_count,
                                                   float* output, uint64_t output_count);
/* One stream, or all, starts over. */
HYENAVK_API hyenavk_status hyenavk_stream_set_reset(hyenavk_stream_set set, uint32_t stream);
HYENAVK_API hyenavk_status hyenavk_stream_set_reset_all(hyenavk_stream_set set);
HYENAVK_API hyenavk_status hyenavk_stream_set_steps(hyenavk_stream_set set, uint32_t stream, uint64_t* steps);
/* One stream's state as bytes, the Vulkan way: state NULL sets *size to the bytes needed; otherwise *size
 * says how many state holds and receives how many were written. */
HYENAVK_API hyenavk_status hyenavk_stream_set_save(hyenavk_stream_set set, uint32_t stream, void* state,
                                                   uint64_t* size);
/* Back into any stream of a set of the same model; HYENAVK_ERROR_FORMAT for bytes that are not such a state. */
HYENAVK_API hyenavk_status hyenavk_stream_set_restore(hyenavk_stream_set set, uint32_t stream, const void* state,
                                                      uint64_t size);

typedef struct hyenavk_memory_plan {
    uint32_t struct_size;
    uint64_t total_bytes;     /* the most device memory the model holds while running this shape */
    uint64_t resident_bytes;  /* weights and filters */
    uint64_t budget_bytes;    /* the context's budget */
    uint32_t tiles;           /* pieces the position-wise work is cut into along the sequence */
    uint32_t tile_rows;
    uint32_t fft_channel_group;
    uint32_t gates_kept;
    uint32_t spectra_cached;
    uint64_t long_conv_bytes; /* least memory traffic of the long convolutions */
} hyenavk_memory_plan;
HYENAVK_API void hyenavk_memory_plan_init(hyenavk_memory_plan* plan);
/* How a forward of this shape will use device memory; HYENAVK_ERROR_OUT_OF_MEMORY where it cannot fit the
 * budget, HYENAVK_ERROR_DEVICE_LIMIT beyond the device's limits, HYENAVK_ERROR_INVALID_ARGUMENT for shapes
 * hyenavk_model_output_count refuses. Nothing is allocated. */
HYENAVK_API hyenavk_status hyenavk_model_memory_plan(hyenavk_model model, uint32_t batch, uint32_t length,
                                                     uint32_t full_sequence, hyenavk_memory_plan* plan);

/* Writes a model file with random weights, initialised as the architecture's home framework does.
 * config_json names at least embed_dim (striped_hyena) or d_model and l_max (hyena_operator).
 * HYENAVK_ERROR_OUT_OF_MEMORY, before anything is made, for weights larger than the host's memory. */
HYENAVK_API hyenavk_status hyenavk_write_random_model(const char* path, const char* config_json, uint64_t seed);

#ifdef __cplusplus
}
#endif

#endif
