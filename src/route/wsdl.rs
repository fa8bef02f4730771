//! The WSDL and XSDs of the sync channel (WIRE.md: `ISyncChannel`, `ISyncChannelHttpService`,
//! `SyncChannelHttpBinding`, `soapAction=""`, the Types / Request / Response / common namespaces),
//! served on `?wsdl` and `?xsd=NAME` so that a standard SOAP toolkit can generate a client.
//! Children are unqualified, as clients in the field write them.

use super::soap::{COMMON_NS, INTERFACES_NS, REQUEST_NS, RESPONSE_NS, TYPES_NS};

/// The schema names served on `?xsd=NAME`.
pub const SCHEMAS: [&str; 4] = ["types", "request", "response", "common"];

/// The address a client should call: `http://HOST/PATH`, from the request's `Host` header when it
/// is a plain authority (anything else falls back to `localhost`).
pub fn address(host: Option<&str>, path: &str) -> String {
    let host = host
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}{path}")
}

/// The WSDL, with `address` as the port's location and the base of the schema locations.
pub fn wsdl(address: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions name="ISyncChannel" targetNamespace="{INTERFACES_NS}" xmlns:tns="{INTERFACES_NS}" xmlns:types="{TYPES_NS}" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <wsdl:documentation>The e-government gateway's synchronous channel (shep route).</wsdl:documentation>
  <wsdl:types>
    <xsd:schema>
      <xsd:import namespace="{TYPES_NS}" schemaLocation="{address}?xsd=types"/>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="SendMessageRequest"><wsdl:part name="parameters" element="types:SendMessage"/></wsdl:message>
  <wsdl:message name="SendMessageResponse"><wsdl:part name="parameters" element="types:SendMessageResponse"/></wsdl:message>
  <wsdl:message name="SendMessageFault"><wsdl:part name="fault" element="types:SendMessageFault1_SendMessageFault"/></wsdl:message>
  <wsdl:portType name="ISyncChannel">
    <wsdl:operation name="SendMessage">
      <wsdl:input message="tns:SendMessageRequest"/>
      <wsdl:output message="tns:SendMessageResponse"/>
      <wsdl:fault name="SendMessageFault" message="tns:SendMessageFault"/>
    </wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="SyncChannelHttpBinding" type="tns:ISyncChannel">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="SendMessage">
      <soap:operation soapAction="" style="document"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
      <wsdl:fault name="SendMessageFault"><soap:fault name="SendMessageFault" use="literal"/></wsdl:fault>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="ISyncChannelHttpService">
    <wsdl:port name="SyncChannelHttpPort" binding="tns:SyncChannelHttpBinding">
      <soap:address location="{address}"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"#
    )
}

/// One of the XSDs, or `None` for an unknown name.
pub fn xsd(name: &str, address: &str) -> Option<String> {
    let head = |tns: &str, imports: &[(&str, &str)]| {
        let mut s = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="{tns}" xmlns:tns="{tns}" xmlns:common="{COMMON_NS}" xmlns:req="{REQUEST_NS}" xmlns:resp="{RESPONSE_NS}" elementFormDefault="unqualified" attributeFormDefault="unqualified">
"#
        );
        for (ns, n) in imports {
            s.push_str(&format!(
                "  <xsd:import namespace=\"{ns}\" schemaLocation=\"{address}?xsd={n}\"/>\n"
            ));
        }
        s
    };
    let body = match name {
        "types" => {
            let mut s = head(
                TYPES_NS,
                &[
                    (REQUEST_NS, "request"),
                    (RESPONSE_NS, "response"),
                    (COMMON_NS, "common"),
                ],
            );
            s.push_str(r#"  <xsd:element name="SendMessage">
    <xsd:complexType><xsd:sequence><xsd:element name="request" type="req:SyncSendMessageRequest"/></xsd:sequence></xsd:complexType>
  </xsd:element>
  <xsd:element name="SendMessageResponse">
    <xsd:complexType><xsd:sequence><xsd:element name="response" type="resp:SyncSendMessageResponse"/></xsd:sequence></xsd:complexType>
  </xsd:element>
  <xsd:element name="SendMessageFault1_SendMessageFault" type="common:ErrorInfo"/>
"#);
            s
        }
        "request" => {
            let mut s = head(REQUEST_NS, &[(COMMON_NS, "common")]);
            s.push_str(
                r#"  <xsd:complexType name="SyncSendMessageRequest">
    <xsd:sequence>
      <xsd:element name="requestInfo" type="tns:SyncMessageInfo"/>
      <xsd:element name="requestData" type="tns:SyncRequestData"/>
    </xsd:sequence>
  </xsd:complexType>
  <xsd:complexType name="SyncMessageInfo">
    <xsd:sequence>
      <xsd:element name="messageId" type="xsd:string"/>
      <xsd:element name="correlationId" type="xsd:string" minOccurs="0"/>
      <xsd:element name="serviceId" type="xsd:string"/>
      <xsd:element name="messageDate" type="xsd:dateTime"/>
      <xsd:element name="routeId" type="xsd:string" minOccurs="0"/>
      <xsd:element name="sender" type="common:SenderInfo"/>
      <xsd:element name="properties" type="common:Property" minOccurs="0" maxOccurs="unbounded"/>
      <xsd:element name="sessionId" type="common:guid" minOccurs="0"/>
    </xsd:sequence>
  </xsd:complexType>
  <xsd:complexType name="SyncRequestData">
    <xsd:sequence><xsd:element name="data" type="xsd:anyType" minOccurs="0"/></xsd:sequence>
  </xsd:complexType>
"#,
            );
            s
        }
        "response" => {
            let mut s = head(RESPONSE_NS, &[(COMMON_NS, "common")]);
            s.push_str(
                r#"  <xsd:complexType name="SyncSendMessageResponse">
    <xsd:sequence>
      <xsd:element name="responseInfo" type="tns:SyncMessageInfoResponse"/>
      <xsd:element name="responseData" type="tns:SyncResponseData" minOccurs="0"/>
    </xsd:sequence>
  </xsd:complexType>
  <xsd:complexType name="SyncMessageInfoResponse">
    <xsd:sequence>
      <xsd:element name="messageId" type="xsd:string"/>
      <xsd:element name="correlationId" type="xsd:string" minOccurs="0"/>
      <xsd:element name="responseDate" type="xsd:dateTime"/>
      <xsd:element name="status" type="common:StatusInfo"/>
      <xsd:element name="sessionId" type="common:guid" minOccurs="0"/>
    </xsd:sequence>
  </xsd:complexType>
  <xsd:complexType name="SyncResponseData">
    <xsd:sequence><xsd:element name="data" type="xsd:anyType" minOccurs="0"/></xsd:sequence>
  </xsd:complexType>
"#,
            );
            s
        }
        "common" => {
            let mut s = head(COMMON_NS, &[]);
            s.push_str(r#"  <xsd:complexType name="SenderInfo">
    <xsd:sequence>
      <xsd:element name="senderId" type="xsd:string"/>
      <xsd:element name="password" type="xsd:string" minOccurs="0"/>
    </xsd:sequence>
  </xsd:complexType>
  <xsd:complexType name="Property">
    <xsd:sequence>
      <xsd:element name="key"><xsd:simpleType><xsd:restriction base="xsd:string"><xsd:maxLength value="30"/></xsd:restriction></xsd:simpleType></xsd:element>
      <xsd:element name="value"><xsd:simpleType><xsd:restriction base="xsd:string"><xsd:maxLength value="500"/></xsd:restriction></xsd:simpleType></xsd:element>
    </xsd:sequence>
  </xsd:complexType>
  <xsd:complexType name="StatusInfo">
    <xsd:sequence>
      <xsd:element name="code" type="xsd:string"/>
      <xsd:element name="message"><xsd:simpleType><xsd:restriction base="xsd:string"><xsd:maxLength value="250"/></xsd:restriction></xsd:simpleType></xsd:element>
    </xsd:sequence>
  </xsd:complexType>
  <xsd:complexType name="ErrorInfo">
    <xsd:sequence>
      <xsd:element name="errorCode" type="xsd:string"/>
      <xsd:element name="errorMessage" type="xsd:string"/>
      <xsd:element name="errorData" type="xsd:string" minOccurs="0"/>
      <xsd:element name="errorDate" type="xsd:dateTime"/>
      <xsd:element name="subError" type="tns:ErrorInfo" minOccurs="0"/>
      <xsd:element name="sessionId" type="tns:guid" minOccurs="0"/>
    </xsd:sequence>
  </xsd:complexType>
  <xsd:simpleType name="guid">
    <xsd:restriction base="xsd:string">
      <xsd:pattern value="\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}"/>
    </xsd:restriction>
  </xsd:simpleType>
"#);
            s
        }
        _ => return None,
    };
    Some(body + "</xsd:schema>\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::xml::{Item, Scanner};

    fn well_formed(doc: &str) {
        let mut s = Scanner::new(doc);
        loop {
            match s.next_item() {
                Ok(Item::Eof) => return,
                Ok(_) => {}
                Err(e) => panic!("{e}\n{doc}"),
            }
        }
    }

    #[test]
    fn documents_are_well_formed_and_name_the_wire_contract() {
        let a = address(Some("route.minjust.svc:80"), "/bip-sync-wss-gost/");
        assert_eq!(a, "http://route.minjust.svc:80/bip-sync-wss-gost/");
        let w = wsdl(&a);
        well_formed(&w);
        for n in [
            "ISyncChannelHttpService",
            "SyncChannelHttpBinding",
            "soapAction=\"\"",
            "SendMessageFault1_SendMessageFault",
        ] {
            assert!(w.contains(n), "{n}");
        }
        for n in SCHEMAS {
            well_formed(&xsd(n, &a).unwrap());
        }
        assert!(xsd("nope", &a).is_none());
        assert_eq!(address(Some("evil\"><x"), "/sync"), "http://localhost/sync");
    }
}
