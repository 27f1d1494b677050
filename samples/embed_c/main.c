/* Embedding hyenavk from C: run one 60-frame sequence of game state through the default Edifice encoder on
 * the default Vulkan device and print a summary of the output vector.
 *
 *   embed_c [--validation] [MODEL.safetensors]
 *
 * Without a model file it writes the default encoder (embed_dim 287, random weights) to a temporary file
 * first. With --validation the Khronos validation layer checks every Vulkan call, and any message it reports
 * makes the program fail. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hyenavk/hyenavk.h>

/* Prints the failing call, its status and the library's message. */
static int report(const char* call, hyenavk_status status) {
    fprintf(stderr, "embed_c: %s failed: %s: %s\n", call, hyenavk_status_name(status), hyenavk_last_error_message());
    return 1;
}

static void log_message(void* user_data, hyenavk_log_level level, const char* message) {
    (void)user_data;
    if (level >= HYENAVK_LOG_WARNING) fprintf(stderr, "embed_c: [vulkan] %s\n", message);
}

/* The encoder on one synthetic sequence; returns the process's exit status. */
static int run(const char* model_path, int validation) {
    hyenavk_context_options options;
    hyenavk_context_options_init(&options);
    options.validation = (uint32_t)validation;
    options.log = log_message;
    hyenavk_context context = NULL;
    hyenavk_status status = hyenavk_context_create(&options, &context);
    if (status != HYENAVK_OK) return report("hyenavk_context_create", status);

    int failed = 0;
    hyenavk_model model = NULL;
    float* input = NULL;
    float* output = NULL;
    hyenavk_device_info device;
    hyenavk_device_info_init(&device);
    hyenavk_model_info info;
    hyenavk_model_info_init(&info);
    if ((status = hyenavk_context_device(context, &device)) != HYENAVK_OK) {
        failed = report("hyenavk_context_device", status);
    } else if ((status = hyenavk_model_load(context, model_path, NULL, &model)) != HYENAVK_OK) {
        failed = report("hyenavk_model_load", status);
    } else if ((status = hyenavk_model_info_get(model, &info)) != HYENAVK_OK) {
        failed = report("hyenavk_model_info_get", status);
    } else {
        /* 60 frames of game state: each feature a slow sinusoid of its own phase. */
        const uint32_t batch = 1, length = 60;
        const uint64_t input_count = (uint64_t)batch * length * info.input_features;
        uint64_t output_count = 0;
        status = hyenavk_model_output_count(model, batch, length, 0, &output_count);
        if (status == HYENAVK_OK) {
            input = malloc(input_count * sizeof *input);
            output = malloc(output_count * sizeof *output);
        }
        if (status != HYENAVK_OK) {
            failed = report("hyenavk_model_output_count", status);
        } else if (!input || !output) {
            fprintf(stderr, "embed_c: out of memory\n");
            failed = 1;
        } else {
            for (uint64_t i = 0; i < input_count; ++i) {
                const uint64_t t = i / info.input_features, f = i % info.input_features;
                input[i] = (float)sin(0.1 * (double)t + 0.37 * (double)f);
            }
            status = hyenavk_model_forward(model, input, input_count, batch, length, 0, output, output_count);
            if (status != HYENAVK_OK) {
                failed = report("hyenavk_model_forward", status);
            } else {
                double sum = 0, sum_sq = 0;
                for (uint64_t i = 0; i < output_count; ++i) {
                    sum += output[i];
                    sum_sq += (double)output[i] * output[i];
                }
                printf("%s on %s: [%u, %u, %u] -> [%u, %u]\n", info.arch, device.name, batch, length,
                       info.input_features, batch, info.output_features);
                printf("output: mean %.6f, rms %.6f, first %.6f %.6f %.6f\n", sum / (double)output_count,
                       sqrt(sum_sq / (double)output_count), output[0], output[1], output[2]);
                for (uint64_t i = 0; i < output_count; ++i)
                    if (!isfinite(output[i])) {
                        fprintf(stderr, "embed_c: output %llu is not finite\n", (unsigned long long)i);
                        failed = 1;
                        break;
                    }
            }
        }
    }
    free(input);
    free(output);
    hyenavk_model_destroy(model);
    const uint64_t messages = hyenavk_context_validation_message_count(context);
    hyenavk_context_destroy(context);
    if (validation) {
        printf("validation messages: %llu\n", (unsigned long long)messages);
        if (messages != 0) failed = 1;
    }
    return failed;
}

int main(int argc, char** argv) {
    int validation = 0;
    const char* model_path = NULL;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--validation") == 0) {
            validation = 1;
        } else if (argv[i][0] == '-' || model_path) {
            fprintf(stderr, "usage: embed_c [--validation] [MODEL.safetensors]\n");
            return 2;
        } else {
            model_path = argv[i];
        }
    }
    printf("hyenavk %s (built against %d.%d.%d)\n", hyenavk_version_string(), HYENAVK_VERSION_MAJOR,
           HYENAVK_VERSION_MINOR, HYENAVK_VERSION_PATCH);
    if (hyenavk_version() >> 22 != HYENAVK_VERSION_MAJOR) {
        fprintf(stderr, "embed_c: the loaded library's major version differs from the headers'\n");
        return 1;
    }

    char temporary[] = "/tmp/embed_c_XXXXXX";
    if (!model_path) {
        const int fd = mkstemp(temporary);
        if (fd < 0) {
            perror("embed_c: mkstemp");
            return 1;
        }
        close(fd);
        const hyenavk_status status = hyenavk_write_random_model(temporary, "{\"embed_dim\": 287}", 1);
        if (status != HYENAVK_OK) {
            unlink(temporary);
            return report("hyenavk_write_random_model", status);
        }
        model_path = temporary;
    }
    const int failed = run(model_path, validation);
    if (model_path == temporary) unlink(temporary);
    return failed;
}
