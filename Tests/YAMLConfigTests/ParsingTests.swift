import Testing
import YAMLConfig

@Suite("Parsing YAML into located nodes", .timeLimit(.minutes(3)))
struct ParsingTests {
    @Test("nested mappings and sequences keep their order and their line:column")
    func nested() throws {
        let root = try parse("""
            server:
              listen: 127.0.0.1:8080
            workers:
              - name: a
                ports: [3100, 3101]
              - name: b
            """)
        #expect(root["server"]?["listen"]?.scalar == "127.0.0.1:8080")
        #expect(root["server"]?["listen"]?.mark.description == "test.yaml:2:11")
        let workers = try #require(root["workers"]?.sequence)
        #expect(workers.count == 2)
        #expect(workers[1]["name"]?.scalar == "b")
        #expect(workers[1].mark.line == 6 && workers[1].mark.column == 5)
        #expect(workers[0]["ports"]?.sequence?.map(\.scalar) == ["3100", "3101"])
        #expect(root.mapping?.map(\.key.scalar) == ["server", "workers"])
    }

    @Test("anchors, aliases and merge keys")
    func anchors() throws {
        let root = try parse("""
            base: &base
              memory: 1GiB
              restart: always
            small:
              <<: *base
              memory: 512MiB
            copy: *base
            many:
              <<: [*base, {extra: yes}]
            """)
        #expect(root["small"]?["memory"]?.scalar == "512MiB")
        #expect(root["small"]?["restart"]?.scalar == "always")
        #expect(root["copy"]?["memory"]?.scalar == "1GiB")
        #expect(root["many"]?["extra"]?.scalar == "yes")
        #expect(root["many"]?["restart"]?.scalar == "always")
    }

    @Test("block, folded and quoted scalars")
    func scalarStyles() throws {
        let root = try parse("""
            literal: |
              line one
              line two
            folded: >
              one
              two
            single: 'it''s'
            double: "tab\\there \\u00e9"
            plain: just text
            keep: |+
              kept

            """)
        #expect(root["literal"]?.scalar == "line one\nline two\n")
        #expect(root["folded"]?.scalar == "one two\n")
        #expect(root["single"]?.scalar == "it's")
        #expect(root["double"]?.scalar == "tab\there é")
        #expect(root["plain"]?.scalar == "just text")
        #expect(root["keep"]?.scalar == "kept\n")
        #expect(root["single"]?.content == .scalar("it's", .singleQuoted))
    }

    @Test("comments are ignored and an empty or comment-only input has no document")
    func emptyDocuments() throws {
        #expect(try YAMLParser(source: "e").parseDocuments(Array("".utf8)).isEmpty)
        #expect(try YAMLParser(source: "e").parseDocuments(Array("# nothing here\n\n# at all\n".utf8)).isEmpty)
        let root = try parse("a: 1 # trailing\n# full line\nb: 2\n")
        #expect(root["a"]?.scalar == "1")
        #expect(root["b"]?.scalar == "2")
        let explicit = try YAMLParser(source: "e").parseDocuments(Array("---\n...\n".utf8))
        #expect(explicit.count == 1 && explicit[0].isNull)
    }

    @Test("several documents are read by parseDocuments and refused by parseSingleDocument")
    func documents() throws {
        let text = "a: 1\n---\nb: 2\n"
        #expect(try YAMLParser(source: "m.yaml").parseDocuments(Array(text.utf8)).count == 2)
        #expect(throws: YAMLErrors.self) { try YAMLParser(source: "m.yaml").parseSingleDocument(text) }
        do {
            _ = try YAMLParser(source: "m.yaml").parseSingleDocument(text)
        } catch {
            #expect(error.description == "m.yaml:3:1: expected one YAML document, found 2")
        }
    }

    @Test("scalars stay strings: yes, on, 0755, 1e3 and null are text until decoded")
    func scalarsStayStrings() throws {
        let root = try parse("a: yes\nb: on\nc: 0755\nd: 1e3\ne: null\nf: ~\ng:\nh: ''\n")
        #expect(root["a"]?.scalar == "yes")
        #expect(root["b"]?.scalar == "on")
        #expect(root["c"]?.scalar == "0755")
        #expect(root["d"]?.scalar == "1e3")
        #expect(root["e"]?.isNull == true)
        #expect(root["f"]?.isNull == true)
        #expect(root["g"]?.isNull == true)
        #expect(root["h"]?.isNull == false)
    }

    @Test("columns count characters, not bytes")
    func unicodeColumns() throws {
        let root = try parse("nome: \"ção\"\nchave: [é, x]\n")
        let items = try #require(root["chave"]?.sequence)
        #expect(items[1].mark.column == 12)
    }
}
