package io.resident.model;

import java.util.Arrays;

/**
 * Rotary position tables, in float32 as the references compute them: the angle is the float32 product of
 * position and frequency, cos and sin are taken of that float32 value.
 */
final class Rope {

    private Rope() {}

    /** Frequencies of the rotated pairs, including the checkpoint's scaling. */
    static float[] inverseFrequencies(ModelConfig config) {
        int dim = config.rotaryDim();
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = 1f / (float) Math.pow(config.ropeTheta(), (float) (2 * i) / dim);
        }
        ModelConfig.RopeScaling scaling = config.ropeScaling();
        if (scaling == null) {
            return inv;
        }
        float factor = (float) scaling.factor();
        for (int i = 0; i < inv.length; i++) {
            inv[i] = switch (scaling.type()) {
                case "linear" -> inv[i] / factor;
                case "llama3" -> llama3(inv[i], scaling);
                default -> throw new IllegalStateException("rope scaling " + scaling.type());
            };
        }
        return inv;
    }

    /** Llama 3.1's rule: long wavelengths slowed by factor, short ones kept, a smooth blend between. */
    private static float llama3(float inv, ModelConfig.RopeScaling s) {
        float factor = (float) s.factor();
        double oldContext = s.originalMaxPositions();
        float wavelength = (float) (2 * Math.PI) / inv;
        if (wavelength < oldContext / s.highFreqFactor()) {
            return inv;
        }
        if (wavelength > oldContext / s.lowFreqFactor()) {
            return inv / factor;
        }
        float smooth = (float) ((oldContext / wavelength - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor()));
        return (1 - smooth) * inv / factor + smooth * inv;
    }

    /**
     * cos (first) and sin (second) of every position's angles, row-major [positions, headDim]: each rotated pair's
     * value at dim i and i + rotaryDim / 2 (rotate-half layout), cos 1 and sin 0 past rotaryDim.
     */
    static float[][] tables(ModelConfig config, int positions) {
        float[] inv = inverseFrequencies(config);
        int d = config.headDim();
        float[] cos = new float[positions * d];
        float[] sin = new float[cos.length];
        for (int p = 0; p < positions; p++) {
            Arrays.fill(cos, p * d + 2 * inv.length, (p + 1) * d, 1f);
            for (int i = 0; i < inv.length; i++) {
                float angle = (float) p * inv[i];
                cos[p * d + i] = cos[p * d + i + inv.length] = (float) Math.cos(angle);
                sin[p * d + i] = sin[p * d + i + inv.length] = (float) Math.sin(angle);
            }
        }
        return new float[][] {cos, sin};
    }

    /**
     * The [headDim, headDim] matrix R with x R = rotate_half(x) on the first rotaryDim dims (and 0 past them):
     * (-x2, x1) for x = (x1, x2).
     */
    static float[] rotateHalf(ModelConfig config) {
        int d = config.headDim();
        int half = config.rotaryDim() / 2;
        float[] matrix = new float[d * d];
        for (int j = 0; j < half; j++) {
            matrix[(j + half) * d + j] = -1; // output j takes -x[j + half]
            matrix[j * d + j + half] = 1; // output j + half takes x[j]
        }
        return matrix;
    }
}
