package io.resident.grammar;

/** A JSON schema that cannot be enforced while decoding: an unsupported keyword, or one with a value it cannot use. */
public final class SchemaException extends RuntimeException {

    private final String keyword;
    private final String pointer;

    SchemaException(String keyword, String pointer, String message) {
        super(message);
        this.keyword = keyword;
        this.pointer = pointer;
    }

    /** The keyword at fault ("uniqueItems"). */
    public String keyword() {
        return keyword;
    }

    /** Where in the schema, as a JSON pointer ("/properties/tags/uniqueItems"). */
    public String pointer() {
        return pointer;
    }
}
