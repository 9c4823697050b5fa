package io.resident.tokenizer;

/** One chat turn as chat templates see it: role is system, user, assistant (or a family's own, e.g. observation). */
public record Message(String role, String content) {}
