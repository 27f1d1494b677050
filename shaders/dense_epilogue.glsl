// The epilogues of the dense kernels: what becomes of a result v = (a @ W + bias)[r, n] and the value o that
// out already holds at [r, n]. Fusing them saves the element-wise pass that would read and write the whole
// output again. Include after declaring `const uint EPILOGUE` (a specialization constant) and storage.glsl.
#ifndef HYENAVK_DENSE_EPILOGUE_GLSL
#define HYENAVK_DENSE_EPILOGUE_GLSL

const uint EPILOGUE_STORE = 0u;           // out = v
const uint EPILOGUE_ACCUMULATE = 1u;      // out = o + v (a residual connection)
const uint EPILOGUE_SILU_GATE = 2u;       // out = silu(v) * o (a gated FFN whose up projection is in out)
const uint EPILOGUE_SIGMOID_GATED = 3u;   // out = v * sigmoid(o) (a sigmoid gate whose logits are in out)

vec4 epilogue(vec4 v, vec4 o) {
    switch (EPILOGUE) {
        case EPILOGUE_ACCUMULATE: return o + v;
        case EPILOGUE_SILU_GATE: return v / (1.0 + exp(-v)) * o;
        case EPILOGUE_SIGMOID_GATED: return v / (1.0 + exp(-o));
        default: return v;
    }
}

#endif
