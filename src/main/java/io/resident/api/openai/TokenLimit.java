package io.resident.api.openai;

/**
 * The most tokens a request asked to generate.
 *
 * @param param the field that set it, for error messages
 * @param value the limit, or null when the request set none
 */
record TokenLimit(String param, Integer value) {}
