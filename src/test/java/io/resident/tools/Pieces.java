package io.resident.tools;

import io.resident.tools.ToolCallParser.Arguments;
import io.resident.tools.ToolCallParser.Call;
import io.resident.tools.ToolCallParser.Content;
import io.resident.tools.ToolCallParser.Opened;
import io.resident.tools.ToolCallParser.Piece;
import java.util.ArrayList;
import java.util.List;

/** A parser's pieces as a reader sees a whole reply: adjacent content as one, each opened call with its arguments. */
public final class Pieces {

    private Pieces() {}

    public static List<Piece> joined(List<Piece> pieces) {
        List<Piece> out = new ArrayList<>();
        for (Piece p : pieces) {
            Piece last = out.isEmpty() ? null : out.getLast();
            switch (p) {
                case Content c when last instanceof Content l -> out.set(out.size() - 1, new Content(l.text() + c.text()));
                case Opened o -> out.add(new Call(o.name(), ""));
                case Arguments a when last instanceof Call l -> out.set(out.size() - 1, new Call(l.name(), l.arguments() + a.text()));
                default -> out.add(p);
            }
        }
        return out;
    }
}
