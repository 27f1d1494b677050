/* hyenavk.h compiles as C99 under strict warnings: the C ABI is C, not C++ that happens to compile. The
 * function below is never called; compiling it type-checks a use of every kind of declaration. */
#include <stddef.h>

#include "hyenavk/hyenavk.h"

int hyenavk_c_header_check(void);

int hyenavk_c_header_check(void) {
    hyenavk_context_options options;
    hyenavk_borrowed_device device;
    hyenavk_load_options load;
    hyenavk_device_info info;
    hyenavk_model_info model_info;
    hyenavk_memory_plan plan;
    hyenavk_context context = NULL;
    hyenavk_model model = NULL;
    uint32_t count = 0;
    uint64_t outputs = 0;
    float in[1] = {0.0f}, out[1];
    int failures = 0;
    hyenavk_context_options_init(&options);
    hyenavk_borrowed_device_init(&device);
    hyenavk_load_options_init(&load);
    hyenavk_device_info_init(&info);
    hyenavk_model_info_init(&model_info);
    hyenavk_memory_plan_init(&plan);
    failures += hyenavk_list_devices(0, NULL, NULL, &info, &count) != HYENAVK_OK;
    failures += hyenavk_context_create(&options, &context) != HYENAVK_OK;
    failures += hyenavk_context_borrow(&device, &options, &context) != HYENAVK_OK;
    failures += hyenavk_context_device(context, &info) != HYENAVK_OK;
    failures += hyenavk_model_load(context, "m.safetensors", &load, &model) != HYENAVK_OK;
    failures += hyenavk_model_info_get(model, &model_info) != HYENAVK_OK;
    failures += hyenavk_model_output_count(model, 1, 1, 0, &outputs) != HYENAVK_OK;
    failures += hyenavk_model_forward(model, in, 1, 1, 1, 0, out, 1) != HYENAVK_OK;
    failures += hyenavk_model_memory_plan(model, 1, 1, 0, &plan) != HYENAVK_OK;
    failures += hyenavk_write_random_model("m.safetensors", "{}", 1) != HYENAVK_OK;
    failures += hyenavk_model_config_json(model) == NULL;
    failures += hyenavk_context_validation_message_count(context) != 0;
    failures += hyenavk_version() != HYENAVK_VERSION;
    failures += hyenavk_version_string() == NULL || hyenavk_status_name(HYENAVK_OK) == NULL ||
                hyenavk_last_error_message() == NULL;
    hyenavk_model_destroy(model);
    hyenavk_context_destroy(context);
    return failures;
}
